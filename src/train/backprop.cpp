// Training-mode forward and backward over the model's layer list, in order and in reverse: every layer keeps
// its input (what its backward needs), a Fire also its squeeze output, a Dropout its mask. Where the CPU and
// the layers allow, `features` takes the NHWC fast lane (train/fast_features.h) and only the classifier runs
// layer by layer here; the plain-loop reference runs everything layer by layer.
#include <cmath>
#include <vector>

#include "kernels/reference/reference.h"
#include "squeezenet/error.h"
#include "squeezenet/train.h"
#include "train/conv_gemm.h"
#include "train/fast_features.h"
#include "train/gradient_listener.h"
#include "train/profile.h"
#include "train/reference_backward.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

bool in_classifier(const Layer& l) { return l.name.starts_with("classifier."); }

void add_into(Tensor& dst, const Tensor& src) {
  for (int64_t i = 0; i < dst.numel(); ++i) dst[i] += src[i];
}

// SplitMix64's finaliser: a well-mixed 64-bit value for every counter.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// x *= mask, the mask drawn here: element k of sample n is kept, as 1 / (1 - p), when 32 bits of
// mix(key_n + k) read as a fraction of 2^32 reach p, key_n drawn from the layer's key and the sample's id. A
// counter instead of a sequence, so the elements are drawn in parallel, and per sample, so a sample's mask is
// the same whatever batch (and rank) it is in.
void dropout_(Tensor& x, Tensor& mask, uint64_t layer_key, std::span<const uint64_t> samples, float p) {
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  const auto threshold = static_cast<uint64_t>(std::ceil(static_cast<double>(p) * 0x1p32));
  const int64_t batch = x.dim(0), per_sample = batch > 0 ? x.numel() / batch : 0;
  if (!samples.empty() && static_cast<int64_t>(samples.size()) != batch)
    throw Error("dropout: " + std::to_string(samples.size()) + " sample ids for a batch of " + std::to_string(batch));
  std::vector<uint64_t> keys(static_cast<std::size_t>(batch));
  for (int64_t n = 0; n < batch; ++n)
    keys[static_cast<std::size_t>(n)] =
        mix(layer_key + mix(samples.empty() ? static_cast<uint64_t>(n) : samples[static_cast<std::size_t>(n)]));
  float *m = mask.data(), *v = x.data();
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < x.numel(); ++k) {
    const uint64_t key = keys[static_cast<std::size_t>(k / per_sample)] + static_cast<uint64_t>(k % per_sample);
    m[k] = (mix(key) >> 32) >= threshold ? scale : 0.0f;
    v[k] *= m[k];
  }
}

}  // namespace

Gradients zero_gradients(const Model& model, bool classifier_only) {
  Gradients g;
  for (const std::string& name : model.parameter_names())
    if (!classifier_only || name.starts_with("classifier.")) g[name] = Tensor(model.parameter(name).shape());
  return g;
}

Backprop::Backprop(const Model& model, bool classifier_only, bool reference_kernels)
    : model_(&model), classifier_only_(classifier_only), reference_(reference_kernels) {
  if (!reference_ && train::fast_features_available(model)) features_ = std::make_unique<train::NhwcFeatures>(model);
}

Backprop::~Backprop() = default;

Tensor Backprop::forward(const Tensor& input, bool training, uint64_t dropout_seed, std::span<const uint64_t> samples) {
  check_input(model_->config(), input.shape());
  const auto& layers = model_->layers();
  // Kept tensors are assigned over, not rebuilt: their memory serves step after step.
  acts_.resize(layers.size());
  saved_.resize(layers.size());
  Rng rng(dropout_seed);
  const auto conv = [&](const Tensor& x, const std::string& name, const Conv2dSpec& s) {
    const Tensor &w = model_->parameter(name + ".weight"), &b = model_->parameter(name + ".bias");
    return reference_ ? ref::conv2d(x, w, b, s.stride, s.padding) : train::conv2d_forward(x, w, b, s.stride, s.padding);
  };
  Tensor x = input;
  first_ = 0;
  if (features_) {
    // Frozen features keep nothing for backward.
    x = features_->forward(input, training && !classifier_only_);
    while (first_ < layers.size() && train::in_fast_lane(layers[first_])) ++first_;
  }
  for (std::size_t i = first_; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    const train::profile::Scope scope("forward", l.name);
    const bool keep = training && (!classifier_only_ || in_classifier(l));
    if (keep) {
      acts_[i] = x;
    } else {
      acts_[i] = Tensor();
    }
    switch (l.kind) {
      case Layer::Kind::Conv2d: x = conv(x, l.name, l.conv); break;
      case Layer::Kind::ReLU: ref::relu_(x); break;
      case Layer::Kind::MaxPool2d: x = ref::max_pool2d_ceil(x, 3, 2); break;
      case Layer::Kind::Fire: {
        Tensor s = conv(x, l.name + ".squeeze", l.fire.squeeze_conv());
        ref::relu_(s);
        Tensor e1 = conv(s, l.name + ".expand1x1", l.fire.expand1x1_conv());
        Tensor e3 = conv(s, l.name + ".expand3x3", l.fire.expand3x3_conv());
        ref::relu_(e1);
        ref::relu_(e3);
        x = ref::concat_channels(e1, e3);
        if (keep) saved_[i] = std::move(s);
        break;
      }
      case Layer::Kind::Dropout: {
        if (!training || l.p == 0.0f) {
          saved_[i] = Tensor();
          break;
        }
        // PyTorch's inverted dropout: kept units scaled by 1 / (1 - p) so that the expectation is unchanged.
        Tensor& mask = saved_[i];
        if (mask.shape() != x.shape()) mask = Tensor(x.shape());
        dropout_(x, mask, rng.next(), samples, l.p);
        break;
      }
      case Layer::Kind::AdaptiveAvgPool2d: x = ref::global_avg_pool(x); break;
    }
  }
  return x;
}

Tensor Backprop::backward(const Tensor& logits_grad, Gradients& grads, bool need_input_grad) {
  const auto& layers = model_->layers();
  if (acts_.size() != layers.size() || acts_.back().empty())
    throw Error("backward: no training-mode forward to go back through");
  if (classifier_only_ && need_input_grad) throw Error("backward: a classifier-only pass has no input gradient");
  const auto conv = [&](const Tensor& x, const Tensor& dy, const std::string& name, const Conv2dSpec& s,
                        bool need_dx) {
    const Tensor& w = model_->parameter(name + ".weight");
    Tensor &dw = train::grad_of(grads, name + ".weight"), &db = train::grad_of(grads, name + ".bias");
    if (!reference_) return train::conv2d_backward(x, w, dy, s.stride, s.padding, dw, db, need_dx);
    ref::ConvGrads g = ref::conv2d_backward(x, w, dy, s.stride, s.padding, need_dx);
    add_into(dw, g.weight);
    add_into(db, g.bias);
    return std::move(g.input);
  };
  Tensor g = logits_grad;
  for (std::size_t i = layers.size(); i-- > first_;) {
    const Layer& l = layers[i];
    if (classifier_only_ && !in_classifier(l)) break;
    const train::profile::Scope scope("backward", l.name);
    const bool need_dx = (i > 0 || need_input_grad) && !(classifier_only_ && l.name == "classifier.1");
    const Tensor& x = acts_[i];
    switch (l.kind) {
      case Layer::Kind::Conv2d: g = conv(x, g, l.name, l.conv, need_dx); break;
      case Layer::Kind::ReLU: g = ref::relu_backward(x, g); break;
      case Layer::Kind::MaxPool2d: g = ref::max_pool2d_ceil_backward(x, g, 3, 2); break;
      case Layer::Kind::Fire: {
        const Tensor& s = saved_[i];
        auto [y1, y3] = ref::split_channels(acts_[i + 1], l.fire.expand1x1);
        auto [g1, g3] = ref::split_channels(g, l.fire.expand1x1);
        Tensor ds = conv(s, ref::relu_backward(y1, g1), l.name + ".expand1x1", l.fire.expand1x1_conv(), true);
        add_into(ds, conv(s, ref::relu_backward(y3, g3), l.name + ".expand3x3", l.fire.expand3x3_conv(), true));
        g = conv(x, ref::relu_backward(s, ds), l.name + ".squeeze", l.fire.squeeze_conv(), need_dx);
        break;
      }
      case Layer::Kind::Dropout:
        if (!saved_[i].empty())
          for (int64_t k = 0; k < g.numel(); ++k) g[k] *= saved_[i][k];
        break;
      case Layer::Kind::AdaptiveAvgPool2d: g = ref::global_avg_pool_backward(x.shape(), g); break;
    }
    if (l.kind == Layer::Kind::Conv2d || l.kind == Layer::Kind::Fire) train::announce_layer_done(l.name);
    if (!need_dx && l.kind == Layer::Kind::Conv2d) return Tensor();
    train::between_layers();
  }
  if (first_ > 0) g = features_->backward(g, grads, need_input_grad);
  return need_input_grad ? g : Tensor();
}

}  // namespace squeezenet
