// Training-mode forward and backward over the model's layer list, in order and in reverse: every layer keeps
// its input (what its backward needs), a Fire also its squeeze output, a Dropout its mask.
#include "kernels/reference/reference.h"
#include "squeezenet/error.h"
#include "squeezenet/train.h"
#include "train/conv_gemm.h"
#include "train/fast_features.h"
#include "train/reference_backward.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

bool in_classifier(const Layer& l) { return l.name.starts_with("classifier."); }

void add_into(Tensor& dst, const Tensor& src) {
  for (int64_t i = 0; i < dst.numel(); ++i) dst[i] += src[i];
}

Tensor& grad_of(Gradients& grads, const std::string& name) {
  auto it = grads.find(name);
  if (it == grads.end()) throw Error("backward: no gradient buffer for parameter '" + name + "'");
  return it->second;
}

}  // namespace

Gradients zero_gradients(const Model& model, bool classifier_only) {
  Gradients g;
  for (const std::string& name : model.parameter_names())
    if (!classifier_only || name.starts_with("classifier.")) g[name] = Tensor(model.parameter(name).shape());
  return g;
}

Backprop::Backprop(const Model& model, bool classifier_only, bool reference_kernels)
    : model_(&model), classifier_only_(classifier_only), reference_(reference_kernels) {}

Tensor Backprop::forward(const Tensor& input, bool training, uint64_t dropout_seed) {
  check_input(model_->config(), input.shape());
  const auto& layers = model_->layers();
  acts_.assign(layers.size(), Tensor());
  saved_.assign(layers.size(), Tensor());
  Rng rng(dropout_seed);
  const auto conv = [&](const Tensor& x, const std::string& name, const Conv2dSpec& s) {
    const Tensor &w = model_->parameter(name + ".weight"), &b = model_->parameter(name + ".bias");
    return reference_ ? ref::conv2d(x, w, b, s.stride, s.padding) : train::conv2d_forward(x, w, b, s.stride, s.padding);
  };
  Tensor x = input;
  std::size_t first = 0;
  if (classifier_only_ && !reference_ && train::fast_features_available()) {
    // Frozen features keep nothing for backward: the inference kernels compute them.
    x = train::fast_features(*model_, input);
    while (first < layers.size() && !in_classifier(layers[first])) ++first;
  }
  for (std::size_t i = first; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    const bool keep = training && (!classifier_only_ || in_classifier(l));
    if (keep) acts_[i] = x;
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
        if (!training || l.p == 0.0f) break;
        // PyTorch's inverted dropout: kept units scaled by 1 / (1 - p) so that the expectation is unchanged.
        Tensor mask(x.shape());
        const float scale = l.p < 1.0f ? 1.0f / (1.0f - l.p) : 0.0f;
        for (int64_t k = 0; k < mask.numel(); ++k) mask[k] = rng.uniform() >= l.p ? scale : 0.0f;
        for (int64_t k = 0; k < x.numel(); ++k) x[k] *= mask[k];
        if (keep) saved_[i] = std::move(mask);
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
    Tensor &dw = grad_of(grads, name + ".weight"), &db = grad_of(grads, name + ".bias");
    if (!reference_) return train::conv2d_backward(x, w, dy, s.stride, s.padding, dw, db, need_dx);
    ref::ConvGrads g = ref::conv2d_backward(x, w, dy, s.stride, s.padding, need_dx);
    add_into(dw, g.weight);
    add_into(db, g.bias);
    return std::move(g.input);
  };
  Tensor g = logits_grad;
  for (std::size_t i = layers.size(); i-- > 0;) {
    const Layer& l = layers[i];
    if (classifier_only_ && !in_classifier(l)) break;
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
    if (!need_dx && l.kind == Layer::Kind::Conv2d) break;
  }
  return need_input_grad ? g : Tensor();
}

}  // namespace squeezenet
