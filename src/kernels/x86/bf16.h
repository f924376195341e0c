#pragma once
// bfloat16 as the bf16 kernel families use it: the top half of an fp32, rounded to nearest even exactly as
// AVX512-BF16's vcvtne2ps2bf16 rounds (zeros and denormals to a zero of the same sign, NaN stays a quiet NaN,
// numbers too large round to infinity). Weights are rounded once when the plan is built. The activations that
// only 1x1 convs read (Fire outputs, pooled maps: the squeezes' and the head's inputs) are stored in bf16 by
// their producer's epilogue; the rest (the image, the squeeze outputs that Winograd transforms in fp32) stay
// fp32 and are rounded as a conv reads them. Both give the numbers of rounding at the read, since ReLU and
// max-pool commute with a monotonic rounding. Products of two bf16 are exact in fp32; sums are fp32.
#include <bit>
#include <cstdint>

#include "kernels/x86/kernels_avx2.h"
#include "squeezenet/tensor.h"

namespace squeezenet::bf16 {

inline uint16_t round(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  if ((u & 0x7f800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
inline float widen(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// KernelTable::prepare and prepare_winograd of the bf16 families: fp32 panels to bf16 pairs (kernels_avx2.h).
void pack(avx2::PackedConv& conv);
void pack_winograd(avx2::PackedWinograd& conv);

// The reference bf16 kernels: plain loops over the bf16 panels, the same rounding, sums in fp32 in pair order.
// Every fast bf16 family is tested against them.
void conv_relu(const avx2::PackedConv& conv, const avx2::ConvIO& io, int64_t pixel_begin, int64_t pixel_end,
               int block_begin, int block_end);
void conv_relu_channel_sums(const avx2::PackedConv& conv, const avx2::ConvIO& io, int block_begin, int block_end,
                            float* sums);
// The reference epilogue's store: value at index `at` of io's output, rounded where it is bf16 (ConvIO::out_bf16).
void store(const avx2::ConvIO& io, int64_t at, float value);
// KernelTable::max_pool_bf16 and round_bf16 of the reference family: non-negative bf16 compare as unsigned
// 16-bit integers, so the pool is a max of those.
void max_pool(const uint16_t* in, int h, int w, int c, uint16_t* out, int row_begin, int row_end);
void round_span(const float* in, int64_t n, uint16_t* out);
// Winograd (winograd_reference_bf16.cpp): the numbers every fast bf16 Winograd is held to. `scratch` is unused.
void winograd_relu(const avx2::PackedWinograd& conv, const avx2::ConvIO& io, int64_t tile_begin, int64_t tile_end,
                   float* scratch);

// The bf16 stem of squeezenet1_0 (plan.cpp: stem_windows): a 1x1 conv over stacked windows of the fp32 image
// (stem_windows.h), so that each pixel's window is one run of 74 pairs instead of 7 odd kernel rows of 11 pairs,
// each converted to pairs on its own. stem_weight: [O, 3, K, K] to [O, K * K * 3, 1, 1],
// for pack_conv (stride 1) and pack. stack_windows: stacked rows [first_row, last_row), `out_row` floats apart
// (at least width * kernel * 3), of an NHWC image of 3 floats a pixel; a conv reads the windows with
// in_row = out_row and in_pixel = stride * kernel * 3. Kernels up to stem_windows::kMaxKernel.
Tensor stem_weight(const Tensor& weight);
void stack_windows(const float* image, int64_t width, int kernel, int stride, float* out, int64_t out_row,
                   int64_t first_row, int64_t last_row);

}  // namespace squeezenet::bf16
