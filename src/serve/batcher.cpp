#include "serve/batcher.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <new>

#include "squeezenet/visualize.h"

namespace squeezenet::serve {

namespace {
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// In a catch block: records the exception being handled as the job's failure.
void fail(JobResult& r) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    r.error = kOutOfMemory;
    r.error_status = 503;
  } catch (const std::exception& e) {
    r.error = e.what();
  }
}
}  // namespace

Tensor forward_in_chunks(const Forward& forward, const Tensor& batch, int64_t classes) {
  const int64_t n = batch.dim(0), per = batch.numel() / n;
  Tensor logits({n, classes});
  for (int64_t done = 0; done < n;) {
    const int64_t chunk = std::min<int64_t>(kMaxForwardChunk, static_cast<int64_t>(std::bit_floor(static_cast<uint64_t>(n - done))));
    Shape shape = batch.shape();
    shape[0] = chunk;
    forward(batch.data() + done * per, shape, logits.data() + done * classes);
    done += chunk;
  }
  return logits;
}

Forward forward_of(Classifier& classifier) {
  return [&classifier](const float* input, const Shape& shape, float* logits) {
    classifier.logits(input, shape, logits);
  };
}

Forward forward_of(Engine& engine) {
  return [&engine](const float* input, const Shape& shape, float* logits) { engine.forward(input, shape, logits); };
}

Batcher::Batcher(BatcherOptions options, Metrics& metrics)
    : options_(options), metrics_(metrics), pool_(options.threads), thread_([this] { loop(); }) {}

Batcher::~Batcher() { drain(); }

std::optional<std::future<JobResult>> Batcher::submit(std::unique_ptr<Job> job) {
  job->enqueued = Clock::now();
  auto future = job->done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.queue) return std::nullopt;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return future;
}

std::size_t Batcher::depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void Batcher::drain() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::unique_ptr<Job>> Batcher::next_batch(std::unique_lock<std::mutex>& lock) {
  std::vector<std::unique_ptr<Job>> batch;
  batch.push_back(std::move(queue_.front()));
  queue_.pop_front();
  const Job& first = *batch.front();
  if (first.kind != Job::Kind::image) return batch;
  // Images of the same model join the batch until it is full or the first has waited max_delay_ms.
  const auto deadline = first.enqueued + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double, std::milli>(options_.max_delay_ms));
  while (static_cast<int>(batch.size()) < options_.max_batch) {
    auto it = std::find_if(queue_.begin(), queue_.end(), [&](const auto& j) {
      return j->kind == Job::Kind::image && j->model == first.model;
    });
    if (it != queue_.end()) {
      batch.push_back(std::move(*it));
      queue_.erase(it);
      continue;
    }
    if (stopping_ || wake_.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  return batch;
}

void Batcher::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is done
    auto batch = next_batch(lock);
    lock.unlock();
    const auto start = Clock::now();
    for (const auto& job : batch) metrics_.stage(Stage::queue, ms_between(job->enqueued, start) / 1000);
    switch (batch.front()->kind) {
      case Job::Kind::image: run_images(batch); break;
      case Job::Kind::cam: run_cam(*batch.front()); break;
      case Job::Kind::tensor: run_tensor(*batch.front()); break;
    }
    lock.lock();
  }
}

void Batcher::run_images(std::vector<std::unique_ptr<Job>>& batch) {
  const auto start = Clock::now();
  const std::size_t n = batch.size();
  if (n == 1) return run_lone_image(*batch.front(), start);
  ServedModel& model = *batch.front()->model;
  metrics_.batch(static_cast<int>(n));
  // Chunks small enough that the members finish the batch at about the same time.
  const std::size_t members = static_cast<std::size_t>(pool_.size());
  const std::size_t chunk = std::clamp<std::size_t>((n + members - 1) / members, 1, kMaxForwardChunk);
  std::atomic<std::size_t> next{0};
  pool_.run([&](int member) {
    for (std::size_t first; (first = next.fetch_add(chunk)) < n;)
      run_chunk({batch.begin() + static_cast<std::ptrdiff_t>(first),
                 batch.begin() + static_cast<std::ptrdiff_t>(std::min(first + chunk, n))},
                model.lanes[static_cast<std::size_t>(member)], static_cast<int>(n), start);
  });
}

// Decodes the chunk's images, each reduced to its network input at once (so a member holds one full-size image
// at a time), runs the good ones through `lane` and answers them all.
void Batcher::run_chunk(std::span<std::unique_ptr<Job>> chunk, Engine& lane, int batch_size, Clock::time_point start) {
  const std::size_t n = chunk.size();
  const Preset preset = chunk.front()->model->classifier->preset();
  const int64_t classes = chunk.front()->model->classes;
  std::vector<JobResult> results(n);
  std::vector<Tensor> inputs(n);
  std::vector<std::size_t> good;
  for (std::size_t i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    try {
      inputs[i] = preprocess(decode_image_bytes(chunk[i]->bytes, chunk[i]->name, options_.limits), preset);
      good.push_back(i);
    } catch (const std::exception&) {
      fail(results[i]);
    }
    results[i].decode_ms = ms_between(t0, Clock::now());
    results[i].queue_ms = ms_between(chunk[i]->enqueued, start);
  }
  if (!good.empty()) {
    try {
      Shape shape = inputs[good.front()].shape();
      shape[0] = static_cast<int64_t>(good.size());
      Tensor stacked(shape);
      const int64_t per = inputs[good.front()].numel();
      for (std::size_t k = 0; k < good.size(); ++k)
        std::copy_n(inputs[good[k]].data(), per, stacked.data() + static_cast<int64_t>(k) * per);
      const auto t0 = Clock::now();
      const Tensor logits = forward_in_chunks(forward_of(lane), stacked, classes);
      const double inference_ms = ms_between(t0, Clock::now());
      metrics_.stage(Stage::inference, inference_ms / 1000);
      for (std::size_t k = 0; k < good.size(); ++k) {
        JobResult& r = results[good[k]];
        r.logits = Tensor({1, classes}, logits.data() + static_cast<int64_t>(k) * classes);
        r.inference_ms = inference_ms;
        r.batch_size = batch_size;
      }
    } catch (const std::exception&) {  // out of memory: the chunk fails, the server goes on
      for (const std::size_t i : good) fail(results[i]);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    metrics_.stage(Stage::decode, results[i].decode_ms / 1000);
    chunk[i]->done.set_value(std::move(results[i]));
  }
}

// One image alone: every member of the pool works on its forward.
void Batcher::run_lone_image(Job& job, Clock::time_point start) {
  JobResult r;
  r.queue_ms = ms_between(job.enqueued, start);
  Classifier& classifier = *job.model->classifier;
  try {
    auto t0 = Clock::now();
    const Tensor input = preprocess(decode_image_bytes(job.bytes, job.name, options_.limits), classifier.preset());
    r.decode_ms = ms_between(t0, Clock::now());
    metrics_.stage(Stage::decode, r.decode_ms / 1000);
    t0 = Clock::now();
    r.logits = classifier.logits(input);
    r.inference_ms = ms_between(t0, Clock::now());
    r.batch_size = 1;
    metrics_.batch(1);
    metrics_.stage(Stage::inference, r.inference_ms / 1000);
  } catch (const std::exception&) {
    fail(r);
  }
  job.done.set_value(std::move(r));
}

void Batcher::run_cam(Job& job) {
  JobResult r;
  r.queue_ms = ms_between(job.enqueued, Clock::now());
  try {
    auto t0 = Clock::now();
    const Image image = decode_image_bytes(job.bytes, job.name, options_.limits);
    Classifier& clf = *job.model->classifier;
    const Tensor input = preprocess(image, clf.preset());
    r.decode_ms = ms_between(t0, Clock::now());
    t0 = Clock::now();
    r.logits = clf.logits(input);
    r.cam_class = static_cast<int>(std::max_element(r.logits.data(), r.logits.data() + r.logits.numel()) -
                                   r.logits.data());
    const CropRegion seen = crop_region(image.width, image.height, clf.preset());
    r.png = encode_png(overlay_heatmap(image, clf.class_activation_map(image, r.cam_class), seen));
    r.inference_ms = ms_between(t0, Clock::now());
    r.batch_size = 1;
  } catch (const std::exception&) {
    fail(r);
  }
  job.done.set_value(std::move(r));
}

void Batcher::run_tensor(Job& job) {
  JobResult r;
  r.queue_ms = ms_between(job.enqueued, Clock::now());
  try {
    const auto t0 = Clock::now();
    r.logits = forward_in_chunks(forward_of(*job.model->classifier), job.input, job.model->classes);
    r.inference_ms = ms_between(t0, Clock::now());
    r.batch_size = static_cast<int>(job.input.dim(0));
    metrics_.batch(r.batch_size);
    metrics_.stage(Stage::inference, r.inference_ms / 1000);
  } catch (const std::exception&) {
    fail(r);
  }
  job.done.set_value(std::move(r));
}

}  // namespace squeezenet::serve
