#pragma once
// The steps of the int8 reference forward, for the forward itself and for calibration, which runs the quantized
// network one conv at a time while it is being built.
#include <string>

#include "kernels/reference/int8.h"
#include "squeezenet/quantize.h"

namespace squeezenet::quant {

// The image as the stem reads it: u8 around its zero point.
ref::U8Tensor quantized_image(const QuantizedModel& q, const Tensor& image);
// Conv `name` of q (int8, or kept in fp32) on x, its u8 output; `image` is what a kept stem reads instead of x.
ref::U8Tensor conv_u8(const QuantizedModel& q, const std::string& name, const ref::U8Tensor& x, const Tensor& image);
ref::U8Tensor concat_u8(const ref::U8Tensor& a, const ref::U8Tensor& b);
// (x - zero_point) * scale of x's channel c, scales per channel.
Tensor dequantized(const ref::U8Tensor& x, const std::vector<float>& scales, int zero_point);

}  // namespace squeezenet::quant
