#pragma once
// The int8 kernels as plain loops: the definition of the arithmetic in squeezenet/quantize.h, and the oracle the
// x86 int8 kernels are tested against. Activations NCHW here.
#include <cstdint>
#include <vector>

#include "squeezenet/tensor.h"

namespace squeezenet::ref {

struct U8Tensor {
  Shape shape;  // [N, C, H, W]
  std::vector<uint8_t> data;
};

// x [N, C, H, W] u8 with `zero_point`, weight [O, C, K, K] s8 -> int32 [N, O, OH, OW]: the sum of
// (x - zero_point) * w; padding reads zero_point, so it adds nothing.
std::vector<int32_t> conv2d_u8s8(const U8Tensor& x, int zero_point, const std::vector<int8_t>& weight, int out_channels,
                                 int kernel, int stride, int padding, Shape& out_shape);

// A conv kept in fp32 (squeezenet/quantize.h): x [N, C, H, W] fp32, weight [O, C, K, K] with the input scales
// folded in -> [N, O, OH, OW], each output bias[o] then one fma per tap over ky, kx, c, then ReLU.
Tensor conv2d_kept_fp32(const Tensor& x, const std::vector<float>& weight, const std::vector<float>& bias, int kernel,
                        int stride, int padding);

// The conversions of squeezenet/quantize.h, element by element.
uint8_t requantize(int32_t acc, float multiplier, float offset);
float dequantize_relu(int32_t acc, float multiplier, float bias);
uint8_t quantize_input(float x, float inverse_scale);
uint8_t quantize_kept(float y, float inverse_scale);  // a kept conv's ReLU'd output to u8

U8Tensor max_pool2d_ceil_u8(const U8Tensor& x, int kernel, int stride);

}  // namespace squeezenet::ref
