#pragma once
// One ISA's kernels, as a table the plan picks from at run time. Weights are packed the same way for every ISA
// (kernels_avx2.h).
#include "kernels/x86/kernels_avx2.h"

namespace squeezenet::x86 {

struct KernelTable {
  const char* isa;  // "avx2", "avx512"
  int tile_pixels;  // pixel or Winograd tile ranges cut on multiples of this keep register tiles whole
  int (*pixel_unit)(int blocks);  // finer than tile_pixels for one conv: detail::pixel_unit
  decltype(&avx2::conv_relu) conv_relu;
  decltype(&avx2::conv_relu_channel_sums) conv_relu_channel_sums;
  decltype(&avx2::winograd_relu) winograd_relu;
  decltype(&avx2::max_pool_3x3s2_ceil) max_pool_3x3s2_ceil;
  decltype(&avx2::max_pool_3x3s2_ceil_no_nan) max_pool_3x3s2_ceil_no_nan;
  decltype(&avx2::rgb_to_nhwc) rgb_to_nhwc;
  decltype(&avx2::fma_peak_gflops) fma_peak_gflops;
};

extern const KernelTable avx2_kernels;    // needs kernels::has_avx2_fma()
extern const KernelTable avx512_kernels;  // needs kernels::has_avx512()

}  // namespace squeezenet::x86
