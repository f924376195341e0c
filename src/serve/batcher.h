#pragma once
// The request queue and dynamic batcher: HTTP threads submit jobs; one compute thread takes them in order,
// gathers the images of one model that arrive within --max-delay-ms (up to --max-batch), decodes them in
// parallel and runs them through the engine together, as Triton's dynamic batcher does. All CPU-heavy work
// happens here, on a pool sized to the CPUs the process may use, apart from the HTTP I/O threads.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/thread_team.h"
#include "serve/metrics.h"
#include "squeezenet/classifier.h"

namespace squeezenet::serve {

using Clock = std::chrono::steady_clock;

struct ServedModel {
  std::string name;
  std::string weights;
  std::unique_ptr<Classifier> classifier;  // used only on the compute thread
  int input_size = 224;                    // the side of the preset's crop: the FP32 input's H and W
  int classes = 1000;
};

// [N, 3, H, W] -> [N, classes] in chunks of 4, 2 and 1 images (13 = 4 + 4 + 4 + 1): the engine keeps one plan
// per batch size, so three plans serve every batch, all built when the model loads. Larger chunks gain nothing
// (the engine's batch-1 throughput is within 10 % of batch 32's) and hold more activation memory.
constexpr int64_t kMaxForwardChunk = 4;
Tensor forward_in_chunks(Classifier& classifier, const Tensor& batch);

struct JobResult {
  std::string error;  // non-empty: the input is bad (a 400), with the message the CLI would print
  Tensor logits;      // [N, classes]
  std::string png;    // cam jobs: the heat map over the image
  int cam_class = -1;
  double queue_ms = 0, decode_ms = 0, inference_ms = 0;
  int batch_size = 0;
};

struct Job {
  enum class Kind { image, cam, tensor } kind = Kind::image;
  ServedModel* model = nullptr;
  std::string bytes;  // image, cam: the encoded image
  std::string name;   // image, cam: what error messages call it
  Tensor input;       // tensor: [N, 3, H, W]
  Clock::time_point enqueued;
  std::promise<JobResult> done;
};

struct BatcherOptions {
  int max_batch = 32;
  double max_delay_ms = 2;
  std::size_t queue = 256;  // jobs waiting; beyond it submit() refuses (the server answers 503)
  int threads = 1;          // the compute pool
  DecodeLimits limits;
};

class Batcher {
 public:
  Batcher(BatcherOptions options, Metrics& metrics);
  ~Batcher();  // drains the queue, then stops

  // Queues `job` and returns its future, or nothing when the queue is full.
  std::optional<std::future<JobResult>> submit(std::unique_ptr<Job> job);
  std::size_t depth() const;
  // Finishes every queued job, then ends the compute thread.
  void drain();

 private:
  void loop();
  std::vector<std::unique_ptr<Job>> next_batch(std::unique_lock<std::mutex>& lock);
  void run_images(std::vector<std::unique_ptr<Job>>& batch);
  void run_cam(Job& job);
  void run_tensor(Job& job);

  BatcherOptions options_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stopping_ = false;
  // Decodes a batch's images in parallel: the project's thread team, whose waits give the core away quickly,
  // where OpenMP's spin for milliseconds on a machine that has other work.
  ThreadTeam decoders_;
  std::thread thread_;
};

}  // namespace squeezenet::serve
