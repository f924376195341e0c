#pragma once
// The activations quantization gives a scale to, as the fp32 and the int8 reference forwards compute them, so that
// calibration can observe them and a report can set one against the other.
#include <functional>
#include <string>

#include "squeezenet/quantize.h"

namespace squeezenet::quant {

// Called with "input", "features.0", each Fire's "F.squeeze", "F.expand1x1" and "F.expand3x3" after their ReLU, and
// "logits"; NCHW fp32 (the int8 forward's u8 maps times their scale).
using Tap = std::function<void(const std::string& name, const Tensor& value)>;
// A convolution without activation, as ref::conv2d: y = conv(x, weight) + bias, [N, O, OH, OW].
using Conv = Tensor (*)(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride, int padding);
// conv_input, when given, is called with each conv's name and the tensor it reads, before it runs. The convs run on
// `conv` (the reference kernel when null): weight sharing's calibration takes the training path's faster one. With
// a `last` conv, the forward stops (returning an empty tensor) after the layer whose conv `last` is, so that a pass
// for one conv's inputs does not run the rest of the network.
Tensor forward_fp32_tapped(const Model& model, const Tensor& input, const Tap& tap, const Tap& conv_input = {},
                           Conv conv = nullptr, const std::string& last = "");
Tensor forward_int8_tapped(const QuantizedModel& q, const Tensor& input, const Tap& tap);

}  // namespace squeezenet::quant
