#pragma once
// One kernel family (an ISA at a precision), as a table the plan picks from at run time: precision is a choice of
// table, never a second plan. Weights are packed the same way for every fp32 ISA (kernels_avx2.h).
#include "kernels/x86/kernels_avx2.h"
#include "squeezenet/engine.h"

namespace squeezenet::x86 {

struct KernelTable {
  const char* isa;     // "avx2", "avx512", "avx512bf16", "reference"
  const char* family;  // what users see: "avx2-fp32", "avx512-fp32", "avx512bf16", "reference-bf16"
  Precision precision;
  int tile_pixels;  // pixel or Winograd tile ranges cut on multiples of this keep register tiles whole
  int (*pixel_unit)(int blocks);  // finer than tile_pixels for one conv: detail::pixel_unit
  // Turns a conv packed by pack_conv into the family's own weight format, once, when the plan is built;
  // nullptr: the fp32 panels as they are.
  void (*prepare)(avx2::PackedConv& conv);
  void (*prepare_winograd)(avx2::PackedWinograd& conv);  // the same for Winograd's panels
  decltype(&avx2::conv_relu) conv_relu;
  decltype(&avx2::conv_relu_channel_sums) conv_relu_channel_sums;
  decltype(&avx2::winograd_relu) winograd_relu;  // nullptr: 3x3 expands run as direct convs
  decltype(&avx2::max_pool_3x3s2_ceil) max_pool_3x3s2_ceil;
  decltype(&avx2::max_pool_3x3s2_ceil_no_nan) max_pool_3x3s2_ceil_no_nan;
  decltype(&avx2::rgb_to_nhwc) rgb_to_nhwc;
  // The family a direct stem conv runs on, nullptr: this one. The bf16 families give theirs to their ISA's fp32
  // kernels, unless the plan stacks the stem's windows (plan.cpp: stem_windows).
  const KernelTable* stem;
  // The unit the convs run on, and its peak from registers on one core as GFLOP/s (2 per multiply-add): the
  // yardstick for "% of peak".
  const char* peak_unit;  // "FMA"
  double (*peak_gflops)(double seconds);
  // The bf16 families' activations between layers (plan.cpp; nullptr in the fp32 families): max_pool_3x3s2_ceil
  // over bf16 ReLU outputs, and n fp32 values rounded to bf16 (bf16.h's rule).
  void (*max_pool_bf16)(const uint16_t* in, int h, int w, int c, uint16_t* out, int row_begin, int row_end);
  void (*round_bf16)(const float* in, int64_t n, uint16_t* out);
};

extern const KernelTable avx2_kernels;    // needs kernels::has_avx2_fma()
extern const KernelTable avx512_kernels;  // needs kernels::has_avx512()
extern const KernelTable avx512bf16_kernels;      // needs kernels::has_avx512bf16()
extern const KernelTable reference_bf16_kernels;  // needs kernels::has_avx2_fma() for its pools

}  // namespace squeezenet::x86
