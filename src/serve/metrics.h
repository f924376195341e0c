#pragma once
// Prometheus text-format metrics of the server: requests by endpoint and code, latency histograms per stage,
// batch sizes, in-flight requests, queue depth and model load times.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace squeezenet::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // The _bucket / _sum / _count lines of `name`, `labels` ("" or `endpoint="x"`) added to each.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not cumulative; one more for +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

enum class Stage { queue, decode, inference };

class Metrics {
 public:
  Metrics();
  void request_done(const std::string& endpoint, int code, double seconds);
  void stage(Stage stage, double seconds);
  void batch(int size);
  void model_loaded(const std::string& model, double seconds);
  std::atomic<int> in_flight{0};

  std::string render(std::size_t queue_depth) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (endpoint, code)
  std::map<std::string, Histogram> totals_;                   // by endpoint
  Histogram queue_, decode_, inference_, batch_;
  std::map<std::string, double> load_seconds_;
};

// Low-cardinality label for a request path: the route it matches ("/v2/models/{name}/infer"), else "other".
std::string endpoint_of(const std::string& path);

}  // namespace squeezenet::serve
