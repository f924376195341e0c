#include "quant/epilogue.h"

namespace squeezenet::quant {

Epilogue epilogue(const QuantizedConv& conv) {
  Epilogue e;
  e.to_u8 = conv.output_scale > 0.0f;
  const std::size_t O = conv.bias.size();
  e.multiplier.resize(O);
  e.offset.resize(O);
  for (std::size_t o = 0; o < O; ++o) {
    const float m = conv.input_scale * conv.weight_scale[o];
    e.multiplier[o] = e.to_u8 ? m / conv.output_scale : m;
    e.offset[o] = e.to_u8 ? conv.bias[o] / conv.output_scale : conv.bias[o];
  }
  return e;
}

std::vector<float> input_gains(const QuantizedModel& q, std::size_t index) {
  if (index < 2 || !q.convs[index - 1].name.ends_with(".expand3x3")) return {};
  const QuantizedConv &e1 = q.convs[index - 2], &e3 = q.convs[index - 1];
  const float in = q.convs[index].input_scale;
  std::vector<float> gains(static_cast<std::size_t>(e1.spec.out_channels), in / e1.output_scale);
  gains.resize(gains.size() + static_cast<std::size_t>(e3.spec.out_channels), in / e3.output_scale);
  return gains;
}

std::vector<float> input_channel_scales(const QuantizedModel& q, std::size_t index) {
  const QuantizedConv& c = q.convs[index];
  if (index < 2 || !q.convs[index - 1].name.ends_with(".expand3x3"))
    return std::vector<float>(static_cast<std::size_t>(c.spec.in_channels), c.input_scale);
  const QuantizedConv &e1 = q.convs[index - 2], &e3 = q.convs[index - 1];
  std::vector<float> scales(static_cast<std::size_t>(e1.spec.out_channels), e1.output_scale);
  scales.resize(scales.size() + static_cast<std::size_t>(e3.spec.out_channels), e3.output_scale);
  return scales;
}

std::vector<float> kept_weights(const QuantizedModel& q, const QuantizedConv& c) {
  const auto index = static_cast<std::size_t>(&c - q.convs.data());
  std::vector<float> w = c.weight_fp32;
  if (index == 0) return w;
  const std::vector<float> a = input_channel_scales(q, index);
  const std::size_t taps = static_cast<std::size_t>(c.spec.kernel * c.spec.kernel);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] *= a[i / taps % a.size()];
  return w;
}

float image_inverse_scale(const QuantizedModel& q) { return 1.0f / q.convs.front().input_scale; }

}  // namespace squeezenet::quant
