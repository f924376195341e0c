#include "quant/calibration_walk.h"

#include <utility>

#include "kernels/reference/reference.h"
#include "quant/epilogue.h"
#include "quant/int8_steps.h"
#include "quant/observer.h"

namespace squeezenet::quant {

namespace {
// Every image's activation at one point of the network: fp32, and u8 in the quantized network when sequential.
struct Activations {
  std::vector<Tensor> fp32;
  std::vector<ref::U8Tensor> u8;
};

class Walk {
 public:
  Walk(const Model& model, const std::vector<Tensor>& images, Calibration rule, bool sequential, QuantizedModel& q,
       const ConvFit& fit)
      : model_(model), images_(images), rule_(rule), sequential_(sequential), q_(q), fit_(fit) {}

  // Fits the next conv to `in` and returns its outputs (nothing after the final conv).
  Activations conv(const Activations& in) {
    QuantizedConv& c = q_.convs[index_];
    const int64_t N = static_cast<int64_t>(images_.size());
    c.input_scale = current_;
    Activations out;
    const bool last = c.name.starts_with("classifier.");  // fp32 logits: no output scale
    if (!last) {
      out.fp32.resize(images_.size());
      const Tensor &w = model_.parameter(c.name + ".weight"), &b = model_.parameter(c.name + ".bias");
#pragma omp parallel for schedule(dynamic)
      for (int64_t n = 0; n < N; ++n) {
        out.fp32[n] = ref::conv2d(in.fp32[n], w, b, c.spec.stride, c.spec.padding);
        ref::relu_(out.fp32[n]);
      }
      c.output_scale = scale(out.fp32, 255);
      // A Fire's expands each get their own scale; the conv reading the Fire reads at expand3x3's, with the ratio
      // folded into its weights.
      if (!c.name.ends_with(".expand1x1")) current_ = c.output_scale;
    }
    ConvInputs seen;
    const std::vector<float> scales = input_channel_scales(q_, index_);
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
    if (last || !sequential_) return out;
    out.u8.resize(images_.size());
#pragma omp parallel for schedule(dynamic)
    for (int64_t n = 0; n < N; ++n) out.u8[n] = conv_u8(q_, c.name, in.u8[n], images_[n]);
    return out;
  }

  void run() {
    current_ = scale(images_, 127);
    q_.convs.front().input_scale = current_;  // the image's u8 below needs it before the stem is walked
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
  // The scale for `levels` steps above zero that rule_ picks from every image's map, in image order.
  float scale(const std::vector<Tensor>& maps, int levels) const {
    Histogram h;
    for (const Tensor& m : maps) h.add(m.data(), m.numel());
    const double t = h.threshold(rule_, levels);
    return t > 0.0 ? static_cast<float>(t / levels) : 1.0f;
  }

  const Model& model_;
  const std::vector<Tensor>& images_;
  const Calibration rule_;
  const bool sequential_;
  QuantizedModel& q_;
  const ConvFit& fit_;
  std::size_t index_ = 0;
  float current_ = 0.0f;  // the scale of the activation the next conv reads
};
}  // namespace

void walk_convs(const Model& model, const std::vector<Tensor>& images, Calibration rule, Fitting fitting,
                QuantizedModel& q, const ConvFit& fit) {
  Walk(model, images, rule, fitting == Fitting::sequential, q, fit).run();
}

}  // namespace squeezenet::quant
