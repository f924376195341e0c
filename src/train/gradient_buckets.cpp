#include "train/gradient_buckets.h"

#include <algorithm>

#include "squeezenet/error.h"
#include "train/fast_features.h"

namespace squeezenet::train {

GradientBuckets::GradientBuckets(const Model& model, const Gradients& trained, Communicator& ranks,
                                 std::size_t bucket_bytes)
    : ranks_(ranks) {
  Bucket open;
  std::size_t size = 0;
  const auto& layers = model.layers();
  for (auto l = layers.rbegin(); l != layers.rend(); ++l) {
    // A layer's parameters are the names under "layer.": the map is sorted, so they are one run of it.
    const std::string prefix = l->name + ".";
    bool any = false;
    for (auto it = trained.lower_bound(prefix); it != trained.end() && it->first.starts_with(prefix); ++it) {
      const auto n = static_cast<std::size_t>(it->second.numel());
      open.parts.push_back({it->first, size, n});
      size += n;
      any = true;
    }
    if (!any) continue;
    open.layers.push_back(l->name);
    if (bucket_bytes > 0 && (size - open.begin) * sizeof(float) >= bucket_bytes) {
      open.end = size;
      buckets_.push_back(std::move(open));
      open = Bucket{};
      open.begin = size;
    }
  }
  if (!open.parts.empty() || buckets_.empty()) {
    open.end = size;
    buckets_.push_back(std::move(open));
  }
  buckets_.back().end = size + 1;  // the vote travels with the last bucket
  flat_.resize(size + 1);
  overlap_ = buckets_.size() > 1 && ranks_.sums_in_background();
}

void GradientBuckets::begin(Gradients& grads, bool stop) {
  grads_ = &grads;
  next_ = 0;
  for (Bucket& b : buckets_) b.layers_left = b.layers.size();
  flat_.back() = stop ? 1.0f : 0.0f;
}

void GradientBuckets::layer_done(const std::string& layer) {
  if (!overlap_) return;
  for (std::size_t i = next_; i < buckets_.size(); ++i) {
    Bucket& b = buckets_[i];
    if (std::find(b.layers.begin(), b.layers.end(), layer) == b.layers.end()) continue;
    if (b.layers_left == 0) throw Error("backward announced layer '" + layer + "' twice");
    --b.layers_left;
    break;
  }
  start_ready();
}

void GradientBuckets::between_layers() {
  if (overlap_) ranks_.progress();
}

void GradientBuckets::start_ready() {
  for (; next_ < buckets_.size() && buckets_[next_].layers_left == 0; ++next_) {
    Bucket& b = buckets_[next_];
    for (const Part& p : b.parts) std::copy_n(grad_of(*grads_, p.name).data(), p.size, flat_.data() + p.offset);
    ranks_.start_sum(flat_.data() + b.begin, b.end - b.begin);
  }
}

bool GradientBuckets::finish() {
  if (!overlap_) {
    for (const Bucket& b : buckets_)
      for (const Part& p : b.parts) std::copy_n(grad_of(*grads_, p.name).data(), p.size, flat_.data() + p.offset);
    ranks_.sum(flat_.data(), flat_.size());
  } else {
    for (Bucket& b : buckets_) b.layers_left = 0;
    start_ready();
    ranks_.wait_sums();
  }
  for (const Bucket& b : buckets_)
    for (const Part& p : b.parts) std::copy_n(flat_.data() + p.offset, p.size, grad_of(*grads_, p.name).data());
  grads_ = nullptr;
  return flat_.back() > 0.0f;
}

}  // namespace squeezenet::train
