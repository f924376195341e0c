#pragma once
// The request queue and dynamic batcher: HTTP threads submit jobs; one compute thread takes them in order and
// gathers the images of one model that arrive within --max-delay-ms (up to --max-batch), as Triton's dynamic
// batcher does. A batch is shared out among the compute pool in small chunks: each member decodes a chunk and at
// once runs it through its own single-threaded engine, so one member decodes while another computes, no image
// waits for the batch's slowest decode, and no member waits at a layer barrier for a descheduled peer (what makes
// one image split across threads slow on a busy machine). A lone image runs on the whole pool. All CPU-heavy work
// happens here, on a pool sized to the CPUs the process may use, apart from the HTTP I/O threads.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
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
  std::unique_ptr<Classifier> classifier;  // the whole pool's engine: lone images, CAMs, tensors
  std::vector<Engine> lanes;               // one single-threaded engine per pool member: batches
  int input_size = 224;                    // the side of the preset's crop: the FP32 input's H and W
  int classes = 1000;
};

// [N, 3, H, W] -> [N, classes] in chunks of 4, 2 and 1 images (13 = 4 + 4 + 4 + 1): an engine keeps one plan
// per batch size, so three plans serve every batch, all built when the model loads. Larger chunks gain nothing
// (one thread's batch-4 throughput is within 10 % of its batch-32's) and hold more activation memory.
constexpr int64_t kMaxForwardChunk = 4;
using Forward = std::function<void(const float* input, const Shape& shape, float* logits)>;
Tensor forward_in_chunks(const Forward& forward, const Tensor& batch, int64_t classes);
Forward forward_of(Classifier& classifier);
Forward forward_of(Engine& engine);

// What a request that ran out of memory is told (with 503): the server's state, not the input's fault, so a client
// or a load balancer may try again.
inline constexpr const char* kOutOfMemory = "out of memory while serving this request; try again later";

struct JobResult {
  std::string error;       // non-empty: the job failed, with the message the CLI would print
  int error_status = 400;  // the input is bad (400), or memory ran out (503)
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
  void run_chunk(std::span<std::unique_ptr<Job>> chunk, Engine& lane, int batch_size, Clock::time_point start);
  void run_lone_image(Job& job, Clock::time_point start);
  void run_cam(Job& job);
  void run_tensor(Job& job);

  BatcherOptions options_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stopping_ = false;
  // Runs a batch's chunks on the pool: the project's thread team, whose waits give the core away quickly, where
  // OpenMP's spin for milliseconds on a machine that has other work.
  ThreadTeam pool_;
  std::thread thread_;
};

}  // namespace squeezenet::serve
