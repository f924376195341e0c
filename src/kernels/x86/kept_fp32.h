#pragma once
// A conv the int8 network keeps in fp32 (squeezenet/quantize.h, "kept"): it reads the int8 network's NHWC u8 maps
// (or, the stem, the fp32 image) and writes u8 or, the final conv, fp32. Each output is one chain of fused
// multiply-adds over ky, kx, c, so the AVX2 and AVX-512 kernels and ref::conv2d_kept_fp32 give the same bits.
#include <cstdint>
#include <vector>

#include "squeezenet/tensor.h"

namespace squeezenet::x86::kept {

constexpr int kBlock = 32;  // output channels a packed block holds

// Weights [block][ky][kx][c][kBlock], zero-padded; bias per output channel, padded likewise.
struct PackedConv {
  int out_channels = 0, in_channels = 0, kernel = 1, stride = 1, blocks = 0;
  std::vector<float, AlignedAllocator<float>> weight, bias;
  float inverse_output_scale = 0.0f;  // 0: fp32 output
  int64_t bytes() const;
};
// weight [O, C, K, K], the input scales already folded in (quant::kept_weights).
PackedConv pack(const std::vector<float>& weight, const std::vector<float>& bias, int out_channels, int in_channels,
                int kernel, int stride, float output_scale);

// Where a kept conv reads and writes; as int8::ConvIO, but the input is either u8 NHWC (`in`, strides in bytes,
// already padded) or an fp32 NCHW image (`image`, planes of image_height x image_width).
struct IO {
  const uint8_t* in = nullptr;
  int64_t in_row = 0;
  int in_pixel = 0;
  const float* image = nullptr;
  int64_t image_height = 0, image_width = 0;
  void* out = nullptr;  // u8, or fp32 when the conv has no output scale
  int64_t out_row = 0;
  int out_pixel = 0;
  int out_width = 0;
};

// Output pixels [first, last), on the widest vectors this CPU has (AVX2 + FMA at least).
void conv(const PackedConv& conv, const IO& io, int64_t first, int64_t last);
void conv_avx2(const PackedConv& conv, const IO& io, int64_t first, int64_t last);
void conv_avx512(const PackedConv& conv, const IO& io, int64_t first, int64_t last);

}  // namespace squeezenet::x86::kept
