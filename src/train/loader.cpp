#include "train/loader.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "squeezenet/error.h"
#include "train/augment.h"
#include "train/profile.h"
#include "util/rng.h"

namespace squeezenet::train {
namespace {
constexpr std::size_t kPrefetch = 2;  // batches decoded ahead of the one training
}

BatchLoader::BatchLoader(const LabelledFolder& folder, LoaderOptions options) : folder_(&folder), options_(options) {
  if (folder.images.empty()) throw Error("no images to load");
  if (options_.batch_size < 1) throw Error("batch size must be at least 1");
  if (options_.ranks < 1 || options_.rank < 0 || options_.rank >= options_.ranks)
    throw Error("data loader: rank " + std::to_string(options_.rank) + " of " + std::to_string(options_.ranks));
  options_.workers = std::max(1, options_.workers);
}

BatchLoader::~BatchLoader() {
  for (auto& f : queue_) f.wait();
}

int64_t BatchLoader::batches() const {
  const auto n = static_cast<int64_t>(folder_->images.size());
  const int64_t global = int64_t{options_.batch_size} * options_.ranks;
  return (n + global - 1) / global;
}

int64_t BatchLoader::images_in(int64_t index) const {
  const auto n = static_cast<int64_t>(folder_->images.size());
  const int64_t global = int64_t{options_.batch_size} * options_.ranks;
  return std::clamp<int64_t>(n - index * global, 0, global);
}

void BatchLoader::start_epoch(int epoch, int64_t first) {
  for (auto& f : queue_) f.wait();
  queue_.clear();
  epoch_ = epoch;
  queued_ = first;
  order_.resize(folder_->images.size());
  for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  if (options_.augment) {
    Rng rng(mix_seed(options_.seed, static_cast<uint64_t>(epoch), ~uint64_t{0}));
    for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.next() % i]);
  }
  fill_queue();
}

void BatchLoader::fill_queue() {
  while (queue_.size() < kPrefetch && queued_ < batches()) {
    const int64_t index = queued_++;
    queue_.push_back(std::async(std::launch::async, [this, index] { return build(epoch_, index); }));
  }
}

Batch BatchLoader::next() {
  if (queue_.empty()) throw Error("data loader: no batch left in this epoch");
  Batch b = queue_.front().get();
  queue_.pop_front();
  fill_queue();
  return b;
}

Batch BatchLoader::build(int epoch, int64_t index) const {
  const std::size_t global = static_cast<std::size_t>(options_.batch_size) * options_.ranks;
  const std::size_t begin = std::min(order_.size(), static_cast<std::size_t>(index) * global +
                                                        static_cast<std::size_t>(options_.rank) * options_.batch_size);
  const std::size_t end = std::min(order_.size(), begin + options_.batch_size);
  const int size = crop_size(options_.preset);
  const std::size_t n = end - begin, sample = 3 * static_cast<std::size_t>(size) * size;
  std::vector<float> pixels(n * sample);
  std::vector<std::string> errors(n);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < n;) {
      const LabelledImage& item = folder_->images[order_[begin + i]];
      const profile::Scope scope("[loader] decode + augment");
      try {
        const Image image = decode_image(item.path);
        if (options_.augment) {
          Rng rng(mix_seed(options_.seed, static_cast<uint64_t>(epoch), order_[begin + i]));
          to_network_input(random_resized_crop_flip(image, size, rng), options_.preset, &pixels[i * sample]);
        } else {
          to_network_input(resize_and_crop(image, options_.preset), options_.preset, &pixels[i * sample]);
        }
      } catch (const std::exception& e) {
        errors[i] = printable(e.what(), kMessageBytes);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::min<int>(options_.workers, static_cast<int>(n)); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();

  Batch b;
  std::size_t good = 0;
  for (std::size_t i = 0; i < n; ++i) good += errors[i].empty();
  b.images = Tensor({static_cast<int64_t>(good), 3, size, size});
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      b.errors.push_back(errors[i]);
      continue;
    }
    std::copy_n(&pixels[i * sample], sample, b.images.data() + at++ * sample);
    b.labels.push_back(folder_->images[order_[begin + i]].label);
    b.samples.push_back(order_[begin + i]);
  }
  return b;
}

void for_each_eval_batch(const std::vector<LabelledImage>& images, Preset preset, int batch_size,
                         const std::function<void(Batch&&)>& fn) {
  LabelledFolder folder;
  folder.images = images;
  LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.augment = false;
  lo.preset = preset;
  BatchLoader loader(folder, lo);
  loader.start_epoch(0);
  for (int64_t b = 0; b < loader.batches(); ++b) {
    Batch batch = loader.next();
    if (!batch.errors.empty()) throw Error(batch.errors.front());
    fn(std::move(batch));
  }
}

}  // namespace squeezenet::train
