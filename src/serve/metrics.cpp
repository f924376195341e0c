#include "serve/metrics.h"

#include <cstdio>

namespace squeezenet::serve {

namespace {
// 0.25 ms to 10 s: a single image takes a few ms, a full batch under load hundreds.
std::vector<double> latency_bounds() {
  return {0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10};
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string join_labels(const std::string& a, const std::string& b) {
  return a.empty() ? b : b.empty() ? a : a + "," + b;
}
}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + join_labels(labels, "le=\"" + le + "\"") + "} " + std::to_string(cumulative) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : queue_(latency_bounds()), decode_(latency_bounds()), inference_(latency_bounds()),
      batch_({1, 2, 4, 8, 16, 32, 64, 128}) {}

void Metrics::request_done(const std::string& endpoint, int code, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, code}];
  totals_.try_emplace(endpoint, latency_bounds()).first->second.observe(seconds);
}

void Metrics::stage(Stage stage, double seconds) {
  std::lock_guard lock(mutex_);
  (stage == Stage::queue ? queue_ : stage == Stage::decode ? decode_ : inference_).observe(seconds);
}

void Metrics::batch(int size) {
  std::lock_guard lock(mutex_);
  batch_.observe(size);
}

void Metrics::model_loaded(const std::string& model, double seconds) {
  std::lock_guard lock(mutex_);
  load_seconds_[model] = seconds;
}

std::string Metrics::render(std::size_t queue_depth) const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP squeezenet_requests_total HTTP requests answered, by endpoint and status code.\n";
  out += "# TYPE squeezenet_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "squeezenet_requests_total{endpoint=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP squeezenet_errors_total HTTP requests answered with a 4xx or 5xx code.\n";
  out += "# TYPE squeezenet_errors_total counter\n";
  for (const auto& [key, n] : requests_)
    if (key.second >= 400)
      out += "squeezenet_errors_total{endpoint=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(n) + "\n";
  out += "# HELP squeezenet_request_duration_seconds Time from the request's headers to its response.\n";
  out += "# TYPE squeezenet_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : totals_)
    h.render(out, "squeezenet_request_duration_seconds", "endpoint=\"" + endpoint + "\"");
  const std::pair<const char*, const Histogram*> stages[] = {
      {"queue", &queue_}, {"decode", &decode_}, {"inference", &inference_}};
  for (const auto& [stage, h] : stages) {
    const std::string name = std::string("squeezenet_") + stage + "_duration_seconds";
    out += "# HELP " + name + " Per image: " +
           (std::string(stage) == "queue"    ? "waiting for the compute pool."
            : std::string(stage) == "decode" ? "decoding and preprocessing."
                                              : "the forward of the batch it ran in.") +
           "\n# TYPE " + name + " histogram\n";
    h->render(out, name, "");
  }
  out += "# HELP squeezenet_batch_size Images per forward.\n# TYPE squeezenet_batch_size histogram\n";
  batch_.render(out, "squeezenet_batch_size", "");
  out += "# HELP squeezenet_in_flight_requests Requests being read, queued, computed or answered.\n";
  out += "# TYPE squeezenet_in_flight_requests gauge\nsqueezenet_in_flight_requests " +
         std::to_string(in_flight.load()) + "\n";
  out += "# HELP squeezenet_queue_depth Images waiting for the compute pool.\n";
  out += "# TYPE squeezenet_queue_depth gauge\nsqueezenet_queue_depth " + std::to_string(queue_depth) + "\n";
  out += "# HELP squeezenet_model_load_seconds Time to read the weights and prepare the engine.\n";
  out += "# TYPE squeezenet_model_load_seconds gauge\n";
  for (const auto& [model, s] : load_seconds_)
    out += "squeezenet_model_load_seconds{model=\"" + model + "\"} " + number(s) + "\n";
  return out;
}

std::string endpoint_of(const std::string& path) {
  static const char* const fixed[] = {"/",           "/metrics",          "/v1/classify",     "/v1/cam",
                                      "/v1/models",  "/v2",               "/v2/health/live", "/v2/health/ready"};
  for (const char* p : fixed)
    if (path == p) return p;
  const std::string models = "/v2/models/";
  if (path.rfind(models, 0) == 0) {
    const std::string rest = path.substr(models.size());
    const auto slash = rest.find('/');
    if (slash == std::string::npos) return "/v2/models/{name}";
    const std::string tail = rest.substr(slash);
    if (tail == "/ready" || tail == "/infer") return "/v2/models/{name}" + tail;
  }
  return "other";
}

}  // namespace squeezenet::serve
