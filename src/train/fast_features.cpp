// NhwcFeatures: what it supports, its plan for one input size, and the forward.
#include "train/fast_features.h"

#include <omp.h>

#include <algorithm>

#include "kernels/dispatch.h"
#include "squeezenet/error.h"
#include "train/nhwc_ops.h"
#include "train/profile.h"

namespace squeezenet::train {
namespace {

using Floats = NhwcFeatures::Floats;

constexpr int kWinogradTile = 2;

// Sizes a buffer; a new size starts zero-filled, so a frame's border, never written, stays zero while the
// input size stays the same.
void fit(Floats& f, int64_t size) {
  if (static_cast<int64_t>(f.size()) != size) f.assign(static_cast<std::size_t>(size), 0.0f);
}

avx2::PackedConv pack(const Model& m, const std::string& name, const Conv2dSpec& s) {
  return avx2::pack_conv(m.parameter(name + ".weight"), m.parameter(name + ".bias"), s.stride);
}

}  // namespace

bool in_fast_lane(const Layer& l) { return !l.name.starts_with("classifier.") && l.kind != Layer::Kind::Dropout; }

bool fast_features_available(const Model& model) {
  if (!kernels::has_avx2_fma()) return false;
  const auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size() && in_fast_lane(layers[i]); ++i) {
    const Layer& l = layers[i];
    switch (l.kind) {
      case Layer::Kind::Conv2d:  // its ReLU is fused into it
        if (l.conv.padding != 0 || i + 1 == layers.size() || layers[i + 1].kind != Layer::Kind::ReLU) return false;
        ++i;
        break;
      case Layer::Kind::MaxPool2d:
      case Layer::Kind::Fire:
        break;
      default:
        return false;
    }
  }
  return true;
}

NhwcFeatures::NhwcFeatures(const Model& model) : model_(&model), kernels_(kernels::fastest_kernels()) {
  if (!fast_features_available(model))
    throw Error("fast features: needs a CPU with AVX2 and FMA and SqueezeNet's layers");
}

void NhwcFeatures::plan(int64_t height, int64_t width) {
  if (height != height_ || width != width_) kept_.clear(), own_.clear();  // old frames have their borders elsewhere
  height_ = height, width_ = width;
  steps_.clear();
  slot_floats_ = 0;
  int h = static_cast<int>(height), w = static_cast<int>(width), c = 3;
  for (const Layer& l : model_->layers()) {
    if (!in_fast_lane(l)) break;
    Step s;
    s.layer = &l;
    s.in_h = s.out_h = h, s.in_w = s.out_w = w, s.in_c = s.out_c = c;
    switch (l.kind) {
      case Layer::Kind::Conv2d: {
        const Conv2dSpec& k = l.conv;
        s.out_h = static_cast<int>(conv_output_size(h, k.kernel, k.stride, 0));
        s.out_w = static_cast<int>(conv_output_size(w, k.kernel, k.stride, 0));
        s.out_c = k.out_channels;
        s.slot = slot_floats_;
        slot_floats_ += int64_t{k.kernel} * k.kernel * k.in_channels * k.out_channels + k.out_channels;
        break;
      }
      case Layer::Kind::MaxPool2d:
        s.out_h = static_cast<int>(pool_output_size(h, 3, 2));
        s.out_w = static_cast<int>(pool_output_size(w, 3, 2));
        break;
      case Layer::Kind::Fire: {
        const FireSpec& f = l.fire;
        s.out_c = f.out_channels();
        // Winograd tiles hanging over the bottom and right edges read a little past the one-pixel border.
        s.frame_h = (h + kWinogradTile - 1) / kWinogradTile * kWinogradTile + 2;
        s.frame_w = (w + kWinogradTile - 1) / kWinogradTile * kWinogradTile + 2;
        s.slot = slot_floats_;
        slot_floats_ += int64_t{f.squeeze} * (f.inplanes + 1) + int64_t{f.expand1x1} * (f.squeeze + 1) +
                        int64_t{f.expand3x3} * (9 * f.squeeze + 1);
        break;
      }
      default:  // a ReLU, fused into the conv before it
        continue;
    }
    h = s.out_h, w = s.out_w, c = s.out_c;
    steps_.push_back(std::move(s));
  }
  // The weights change with every step, so they are packed for every forward, one layer per thread.
#pragma omp parallel for schedule(dynamic)
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    Step& s = steps_[i];
    const Layer& l = *s.layer;
    if (l.kind == Layer::Kind::Conv2d) {
      s.conv = pack(*model_, l.name, l.conv);
    } else if (l.kind == Layer::Kind::Fire) {
      s.conv = pack(*model_, l.name + ".squeeze", l.fire.squeeze_conv());
      s.expand1x1 = pack(*model_, l.name + ".expand1x1", l.fire.expand1x1_conv());
      s.expand3x3 = avx2::pack_winograd(model_->parameter(l.name + ".expand3x3.weight"),
                                        model_->parameter(l.name + ".expand3x3.bias"), kWinogradTile);
    }
  }
}

void NhwcFeatures::forward_image(const float* nchw, Maps& m, Floats& winograd_scratch) const {
  const int H = static_cast<int>(height_), W = static_cast<int>(width_);
  fit(m.input, int64_t{H} * W * 3);
  // A NaN or an infinity in the input is not refused here: it makes the loss NaN, as in PyTorch.
  (void)kernels_->rgb_to_nhwc(nchw, H, W, m.input.data(), 0, H);
  m.out.resize(steps_.size());
  m.frame.resize(steps_.size());
  const float* x = m.input.data();
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    const profile::Scope scope("[image] forward", s.layer->name);
    Floats& y = m.out[i];
    fit(y, int64_t{s.out_h} * s.out_w * s.out_c);
    const int64_t in_row = int64_t{s.in_w} * s.in_c, out_row = int64_t{s.out_w} * s.out_c;
    switch (s.layer->kind) {
      case Layer::Kind::Conv2d: {
        const avx2::ConvIO io{x, s.in_c, in_row, y.data(), s.out_c, out_row, s.out_h, s.out_w};
        kernels_->conv_relu(s.conv, io, 0, io.pixels(), 0, s.conv.blocks());
        break;
      }
      case Layer::Kind::MaxPool2d:
        kernels_->max_pool_3x3s2_ceil(x, s.in_h, s.in_w, s.in_c, y.data(), 0, s.out_h);
        break;
      default: {  // Fire: the squeeze writes inside its frame, whose border is expand3x3's zero padding
        const int sq = s.conv.out_channels, e1 = s.expand1x1.out_channels;
        Floats& frame = m.frame[i];
        fit(frame, int64_t{s.frame_h} * s.frame_w * sq);
        float* interior = frame.data() + (int64_t{s.frame_w} + 1) * sq;
        const int64_t frame_row = int64_t{s.frame_w} * sq;
        const avx2::ConvIO squeeze{x, s.in_c, in_row, interior, sq, frame_row, s.in_h, s.in_w};
        kernels_->conv_relu(s.conv, squeeze, 0, squeeze.pixels(), 0, s.conv.blocks());
        const avx2::ConvIO expand1x1{interior, sq, frame_row, y.data(), s.out_c, out_row, s.out_h, s.out_w};
        kernels_->conv_relu(s.expand1x1, expand1x1, 0, expand1x1.pixels(), 0, s.expand1x1.blocks());
        const avx2::ConvIO expand3x3{frame.data(), sq, frame_row, y.data() + e1, s.out_c, out_row, s.out_h, s.out_w};
        fit(winograd_scratch, avx2::winograd_scratch_floats(s.expand3x3));
        kernels_->winograd_relu(s.expand3x3, expand3x3, 0, avx2::winograd_tiles(kWinogradTile, s.out_h, s.out_w),
                                winograd_scratch.data());
        break;
      }
    }
    x = y.data();
  }
}

Tensor NhwcFeatures::forward(const Tensor& input, bool keep) {
  check_input(model_->config(), input.shape());
  const int64_t N = input.dim(0), H = input.dim(2), W = input.dim(3);
  plan(H, W);
  kept_images_ = keep ? N : 0;
  if (static_cast<int64_t>(kept_.size()) < kept_images_) kept_.resize(static_cast<std::size_t>(kept_images_));
  const Step& last = steps_.back();
  const int64_t out_size = int64_t{last.out_c} * last.out_h * last.out_w;
  Tensor y({N, last.out_c, last.out_h, last.out_w});
  // Memory kept from step to step: fresh pages cost a fault each.
  const auto threads = static_cast<std::size_t>(omp_get_max_threads());
  own_.resize(threads);
  winograd_scratch_.resize(threads);
#pragma omp parallel
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
#pragma omp for schedule(dynamic)
    for (int64_t n = 0; n < N; ++n) {
      Maps& m = keep ? kept_[static_cast<std::size_t>(n)] : own_[t];  // without keep, a thread's images share
      forward_image(input.data() + n * 3 * H * W, m, winograd_scratch_[t]);
      nhwc_to_nchw(m.out.back().data(), last.out_h, last.out_w, last.out_c, y.data() + n * out_size);
    }
  }
  return y;
}

Tensor fast_features(const Model& model, const Tensor& input) { return NhwcFeatures(model).forward(input, false); }

}  // namespace squeezenet::train
