#include "quant/calibration_walk.h"

#include <utility>

#include "kernels/reference/reference.h"
#include "quant/epilogue.h"
#include "quant/int8_steps.h"

namespace squeezenet::quant {

namespace {
// Every image's activation at one point of the network: fp32, and u8 in the quantized network when sequential.
struct Activations {
  std::vector<Tensor> fp32;
  std::vector<ref::U8Tensor> u8;
};

class Walk {
 public:
  Walk(const Model& model, const std::vector<Tensor>& images, bool sequential, QuantizedModel& q, const ConvFit& fit)
      : model_(model), images_(images), sequential_(sequential), q_(q), fit_(fit) {}

  // Fits the next conv to `in` and returns its outputs (nothing after the final conv).
  Activations conv(const Activations& in) {
    QuantizedConv& c = q_.convs[index_];
    const int64_t N = static_cast<int64_t>(images_.size());
    ConvInputs seen;
    const std::vector<float> scales = index_ == 0 ? std::vector<float>(static_cast<std::size_t>(c.spec.in_channels), c.input_scale) : input_channel_scales(q_, index_);
    for (int64_t n = 0; n < N; ++n) {
      const Tensor& x = in.fp32[n];
      seen.fp32.add(c.name, c.spec, x);
      if (!sequential_) {
        seen.moments.add(c.name, c.spec, x, x);
        continue;
      }
      const Tensor x_q = dequantized(in.u8[n], scales, c.input_zero_point);
      seen.quantized.add(c.name, c.spec, x_q);
      seen.moments.add(c.name, c.spec, x, x_q);
    }
    if (!sequential_) seen.quantized = seen.fp32;  // the same inputs: the same sums
    fit_(index_++, seen);
    Activations out;
    if (c.output_scale == 0.0f) return out;  // the final conv: logits
    out.fp32.resize(images_.size());
    if (sequential_) out.u8.resize(images_.size());
    const Tensor &w = model_.parameter(c.name + ".weight"), &b = model_.parameter(c.name + ".bias");
#pragma omp parallel for schedule(dynamic)
    for (int64_t n = 0; n < N; ++n) {
      out.fp32[n] = ref::conv2d(in.fp32[n], w, b, c.spec.stride, c.spec.padding);
      ref::relu_(out.fp32[n]);
      if (sequential_) out.u8[n] = conv_u8(q_, c.name, in.u8[n], images_[n]);
    }
    return out;
  }

  void run() {
    Activations x{images_, {}};
    if (sequential_)
      for (const Tensor& image : images_) x.u8.push_back(quantized_image(q_, image));
    for (const Layer& l : architecture(q_.config)) {
      if (l.kind == Layer::Kind::Conv2d) x = conv(x);
      if (l.kind == Layer::Kind::MaxPool2d)
        for (std::size_t n = 0; n < images_.size(); ++n) {
          x.fp32[n] = ref::max_pool2d_ceil(x.fp32[n], 3, 2);
          if (sequential_) x.u8[n] = ref::max_pool2d_ceil_u8(x.u8[n], 3, 2);
        }
      if (l.kind == Layer::Kind::Fire) {
        const Activations s = conv(x), e1 = conv(s), e3 = conv(s);
        for (std::size_t n = 0; n < images_.size(); ++n) {
          x.fp32[n] = ref::concat_channels(e1.fp32[n], e3.fp32[n]);
          if (sequential_) x.u8[n] = concat_u8(e1.u8[n], e3.u8[n]);
        }
      }
    }
  }

 private:
  const Model& model_;
  const std::vector<Tensor>& images_;
  const bool sequential_;
  QuantizedModel& q_;
  const ConvFit& fit_;
  std::size_t index_ = 0;
};
}  // namespace

void walk_convs(const Model& model, const std::vector<Tensor>& images, Fitting fitting, QuantizedModel& q,
                const ConvFit& fit) {
  Walk(model, images, fitting == Fitting::sequential, q, fit).run();
}

}  // namespace squeezenet::quant
