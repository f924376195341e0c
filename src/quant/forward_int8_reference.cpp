// The int8 network with the reference kernels, NCHW, one step per layer: the executable definition of the
// quantized forward.
#include <cmath>
#include <limits>

#include "kernels/reference/int8.h"
#include "quant/epilogue.h"
#include "quant/int8_steps.h"
#include "quant/taps.h"

namespace squeezenet {

namespace {
using ref::U8Tensor;

U8Tensor conv_int8(const U8Tensor& x, const QuantizedConv& c) {
  Shape shape;
  const std::vector<int32_t> acc = ref::conv2d_u8s8(x, c.input_zero_point, c.weight, c.spec.out_channels, c.spec.kernel,
                                                    c.spec.stride, c.spec.padding, shape);
  const quant::Epilogue e = quant::epilogue(c);
  U8Tensor y{shape, std::vector<uint8_t>(acc.size())};
  const int64_t O = shape[1], HW = shape[2] * shape[3];
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const std::size_t o = static_cast<std::size_t>((static_cast<int64_t>(i) / HW) % O);
    y.data[i] = ref::requantize(acc[i], e.multiplier[o], e.offset[o]);
  }
  return y;
}

// A kept conv reads the u8 values as floats (their scales are in its weights), or the stem the image itself.
Tensor kept_conv(const QuantizedModel& q, const std::string& name, const U8Tensor& x, const Tensor& image) {
  const QuantizedConv& c = q.conv(name);
  Tensor in = image;
  if (&c != &q.convs.front()) {
    in = Tensor(x.shape);
    for (int64_t i = 0; i < in.numel(); ++i) in[i] = x.data[static_cast<std::size_t>(i)];
  }
  return ref::conv2d_kept_fp32(in, quant::kept_weights(q, c), c.bias, c.spec.kernel, c.spec.stride, c.spec.padding);
}

U8Tensor conv_kept_u8(const QuantizedModel& q, const std::string& name, const U8Tensor& x, const Tensor& image) {
  const Tensor y = kept_conv(q, name, x, image);
  const float inverse = 1.0f / q.conv(name).output_scale;
  U8Tensor out{y.shape(), std::vector<uint8_t>(static_cast<std::size_t>(y.numel()))};
  for (int64_t i = 0; i < y.numel(); ++i) out.data[static_cast<std::size_t>(i)] = ref::quantize_kept(y[i], inverse);
  return out;
}

}  // namespace

namespace quant {
ref::U8Tensor quantized_image(const QuantizedModel& q, const Tensor& image) {
  const float inverse = image_inverse_scale(q);
  U8Tensor x{image.shape(), std::vector<uint8_t>(static_cast<std::size_t>(image.numel()))};
  for (int64_t i = 0; i < image.numel(); ++i) x.data[static_cast<std::size_t>(i)] = ref::quantize_input(image[i], inverse);
  return x;
}

ref::U8Tensor conv_u8(const QuantizedModel& q, const std::string& name, const ref::U8Tensor& x, const Tensor& image) {
  const QuantizedConv& c = q.conv(name);
  return c.kept_fp32() ? conv_kept_u8(q, name, x, image) : conv_int8(x, c);
}

ref::U8Tensor concat_u8(const ref::U8Tensor& a, const ref::U8Tensor& b) {
  const int64_t N = a.shape[0], Ca = a.shape[1], Cb = b.shape[1], HW = a.shape[2] * a.shape[3];
  U8Tensor y{{N, Ca + Cb, a.shape[2], a.shape[3]}, {}};
  for (int64_t n = 0; n < N; ++n) {
    y.data.insert(y.data.end(), a.data.begin() + n * Ca * HW, a.data.begin() + (n + 1) * Ca * HW);
    y.data.insert(y.data.end(), b.data.begin() + n * Cb * HW, b.data.begin() + (n + 1) * Cb * HW);
  }
  return y;
}

Tensor dequantized(const ref::U8Tensor& x, const std::vector<float>& scales, int zero_point) {
  Tensor t(x.shape);
  const int64_t C = x.shape[1], HW = t.numel() / (x.shape[0] * C);
  for (int64_t i = 0; i < t.numel(); ++i)
    t[i] = static_cast<float>(x.data[static_cast<std::size_t>(i)] - zero_point) * scales[static_cast<std::size_t>(i / HW % C)];
  return t;
}
}  // namespace quant

namespace {
// The average over pixels of [N, O, H, W], summed in pixel order: the logits.
Tensor average_pixels(const Tensor& y) {
  const int64_t N = y.dim(0), O = y.dim(1), HW = y.dim(2) * y.dim(3);
  Tensor logits({N, O});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      float sum = 0.0f;
      for (int64_t p = 0; p < HW; ++p) sum += y[(n * O + o) * HW + p];
      logits[n * O + o] = sum / static_cast<float>(HW);
    }
  return logits;
}

// The final conv: fp32 with ReLU out of the int8 accumulators (or kept fp32), then the average over pixels.
Tensor head(const QuantizedModel& q, const std::string& name, const U8Tensor& x) {
  const QuantizedConv& c = q.conv(name);
  if (c.kept_fp32()) return average_pixels(kept_conv(q, name, x, Tensor()));
  Shape shape;
  const std::vector<int32_t> acc = ref::conv2d_u8s8(x, c.input_zero_point, c.weight, c.spec.out_channels, c.spec.kernel,
                                                    c.spec.stride, c.spec.padding, shape);
  const quant::Epilogue e = quant::epilogue(c);
  Tensor y(shape);
  const int64_t O = shape[1], HW = shape[2] * shape[3];
  for (int64_t i = 0; i < y.numel(); ++i) {
    const std::size_t o = static_cast<std::size_t>(i / HW % O);
    y[i] = ref::dequantize_relu(acc[static_cast<std::size_t>(i)], e.multiplier[o], e.offset[o]);
  }
  return average_pixels(y);
}
}  // namespace

namespace quant {
Tensor forward_int8_tapped(const QuantizedModel& q, const Tensor& input, const Tap& tap) {
  check_input(q.config, input.shape());
  U8Tensor x = quantized_image(q, input);
  const auto scale = [](int64_t channels, float s) { return std::vector<float>(static_cast<std::size_t>(channels), s); };
  const QuantizedConv& stem = q.convs.front();
  if (tap) tap("input", dequantized(x, scale(stem.spec.in_channels, stem.input_scale), stem.input_zero_point));
  // Each conv's u8 output, reported at its own scale.
  const auto step = [&](const U8Tensor& in, const std::string& name) {
    const QuantizedConv& c = q.conv(name);
    U8Tensor y = conv_u8(q, name, in, input);
    if (tap) tap(name, dequantized(y, scale(c.spec.out_channels, c.output_scale), 0));
    return y;
  };
  Tensor logits;
  for (const Layer& l : architecture(q.config)) {
    if (l.kind == Layer::Kind::Conv2d && l.name == "features.0") x = step(x, l.name);
    if (l.kind == Layer::Kind::Conv2d && l.name != "features.0") logits = head(q, l.name, x);
    if (l.kind == Layer::Kind::MaxPool2d) x = ref::max_pool2d_ceil_u8(x, 3, 2);
    if (l.kind == Layer::Kind::Fire) {
      const U8Tensor s = step(x, l.name + ".squeeze");
      const U8Tensor e1 = step(s, l.name + ".expand1x1");
      x = concat_u8(e1, step(s, l.name + ".expand3x3"));
    }
  }
  // An image holding a NaN or an infinity gets NaN logits, as the fp32 forward gives.
  const int64_t N = input.dim(0), per = input.numel() / N, K = logits.dim(1);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < per; ++i)
      if (!std::isfinite(input[n * per + i])) {
        std::fill(logits.data() + n * K, logits.data() + (n + 1) * K, std::numeric_limits<float>::quiet_NaN());
        break;
      }
  if (tap) tap("logits", logits);
  return logits;
}
}  // namespace quant

Tensor forward_int8_reference(const QuantizedModel& q, const Tensor& input) {
  return quant::forward_int8_tapped(q, input, nullptr);
}

}  // namespace squeezenet
