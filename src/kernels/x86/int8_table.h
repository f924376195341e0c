#pragma once
// The int8 kernel families (AVX512-VNNI, AVX-VNNI, AVX2 without VNNI) as tables the int8 plan picks from at run
// time, and the weight layout they share. Activations are NHWC u8; a conv's accumulators are exact int32, so
// every family computes the same bits (squeezenet/quantize.h defines the arithmetic).
#include <cstdint>
#include <vector>

#include "kernels/x86/stem_windows.h"
#include "squeezenet/quantize.h"
#include "squeezenet/tensor.h"

namespace squeezenet::x86::int8 {

// The most that the |w| of the weights summed in one 16-bit lane may add up to against u8 inputs: 255 x 128 = 32640.
constexpr int kLaneWeightBudget = 128;

// One conv's weights for a family with `lanes` output channels per vector: output channels in blocks of
// `lanes`, blocks in groups of up to `group_blocks` (one register tile's width), and per group
// [tap][input channel quad][group's blocks x lanes][4 input channels] s8 bytes, zero-padded, so that one
// vpdpbusd multiplies four input channels of one pixel into `lanes` outputs.
struct PackedConv {
  int out_channels = 0, in_channels = 0, quads = 0, kernel = 1, stride = 1, lanes = 16, group_blocks = 4, blocks = 0;
  std::vector<int8_t, AlignedAllocator<int8_t>> weight;
  // Per output channel, padded to blocks * lanes: zero_point times the sum of the channel's weights (taken off
  // the accumulator, so that the kernels may multiply the raw u8 input), and the epilogue's constants.
  std::vector<int32_t, AlignedAllocator<int32_t>> correction;
  std::vector<float, AlignedAllocator<float>> multiplier, offset;
  bool to_u8 = true;  // else fp32 with ReLU
  // Every two weights that one 16-bit lane of vpmaddubsw pairs (bytes 2i, 2i + 1 of the layout) have |w0| + |w1| <=
  // 128, so that its u8 x s8 pair sums cannot saturate (the AVX2 family without VNNI runs them so).
  bool pairs_fit_16 = false;
  // And the four weights that two consecutive quads of one tap put in one 16-bit lane (bytes 2i, 2i + 1 of quad q
  // and of quad q + 1, q even) have |w0| + |w1| + |w2| + |w3| <= 128, so that two vpmaddubsw results add in 16 bits
  // without wrapping (every 6-bit weight does; AVX2 without VNNI runs such convs two quads a step).
  bool quad_pairs_fit_16 = false;
  // Winograd F(2x2, 3x3) weights, when the plan runs the conv so (int8_winograd.h): [group of 2 blocks][16 positions]
  // [input channel pair][2 blocks x lanes][2] s16.
  std::vector<int16_t, AlignedAllocator<int16_t>> winograd;
  int64_t bytes() const;
};
PackedConv pack(const QuantizedConv& conv, int lanes, int group_blocks);

// The stem as a 1x1 conv over stacked K x K x 3 windows (stem_windows.h): 1.0's 7x7 window takes 37 four-byte
// vpdpbusd steps instead of 49 (a 4-byte pixel a tap, its 4th byte against a zero weight), 1.1's 3x3 takes 7
// instead of 9.
constexpr int kImageChannels = stem_windows::kImageChannels, kMaxStemKernel = stem_windows::kMaxKernel;
QuantizedConv stem_as_1x1(const QuantizedConv& stem);
// Plain loops (the reference of KernelTable::stack_windows): output rows [first_row, last_row) of that layout
// from the input step's NHWC image (4 bytes a pixel), `out_row` bytes apart: at least width * kernel * 3 + 1.
// A conv reading the last row's last window reads up to 3 bytes past it (against zero weights): they must be
// readable. Kernels up to kMaxStemKernel.
void stack_windows(const uint8_t* image, int64_t width, int kernel, int stride, uint8_t* out, int64_t out_row,
                   int64_t first_row, int64_t last_row);
// Columns [x_begin, x_end) of one output row, from `top`, its first image row, to d: whole 4-byte pixels, each
// one's 4th byte overwritten by the next pixel's first, the last one spilling into the row's spare byte.
void stack_window_columns(const uint8_t* top, int64_t image_row, int kernel, int64_t x_begin, int64_t x_end,
                          uint8_t* d);

// Where a conv reads and writes. Output pixel (y, x), y = i / out_width, x = i % out_width, reads the window whose
// top-left input pixel is at in + y * stride * in_row + x * stride * in_pixel (bytes; the input is already
// padded), and writes channels [0, out_channels) at out + (y * out_row + x * out_pixel) elements.
struct ConvIO {
  enum class Output { u8, f32, i32 };  // i32: the corrected accumulators, for tests
  const uint8_t* in;
  int64_t in_row;
  int in_pixel;
  void* out;
  int64_t out_row;
  int out_pixel;
  int out_width;
  Output output = Output::u8;
  int out_height = 0;  // read by Winograd only, whose units are rows of 2 x 2 output tiles
};

struct KernelTable {
  const char* isa;  // the family, as Engine::kernel_family says it: "avx512vnni-int8", "avxvnni-int8", "avx2-int8"
  int lanes, group_blocks;
  int tile_pixels;  // pixel ranges cut on multiples of this keep register tiles whole
  void (*conv)(const PackedConv& conv, const ConvIO& io, int64_t first_pixel, int64_t last_pixel);
  // NCHW fp32 image [3, pixels] -> NHWC u8, 4 bytes a pixel (the 4th is the zero point, its weights are 0), by
  // the image rule of squeezenet/quantize.h. False when the pixels held a NaN or an infinity.
  bool (*quantize_image)(const float* image, int64_t plane, float inverse_scale, uint8_t* out, int64_t first_pixel,
                         int64_t last_pixel);
  // NHWC u8 3x3 stride-2 max-pool with PyTorch's ceil_mode windows, output rows [row_begin, row_end).
  void (*max_pool)(const uint8_t* in, int h, int w, int c, uint8_t* out, int row_begin, int row_end);
  // stack_windows below, as fast as the family can.
  void (*stack_windows)(const uint8_t* image, int64_t width, int kernel, int stride, uint8_t* out, int64_t out_row,
                        int64_t first_row, int64_t last_row);
  // The dot-product unit's peak on one thread: independent accumulator chains from registers.
  double (*peak_gmacs)(double seconds);
  // A 3x3 conv that int8_winograd.h's winograd_fits, on output tile rows [first_row, last_row) (u8 or i32 out),
  // exactly as `conv`; nullptr where the direct conv is as fast.
  void (*winograd3x3)(const PackedConv& conv, const ConvIO& io, int64_t first_row, int64_t last_row) = nullptr;
};

extern const KernelTable int8_avx512_vnni_kernels;  // needs has_avx512_vnni()
extern const KernelTable int8_avx2_vnni_kernels;    // needs has_avx_vnni()
extern const KernelTable int8_avx2_kernels;         // needs kernels::has_avx2_fma()

bool has_avx512_vnni();  // AVX-512 F, BW, VL and VNNI, with the OS saving their state
bool has_avx_vnni();     // the VEX-coded vpdpbusd of AVX-VNNI, on ymm registers
// The families this CPU runs, fastest first; SQUEEZENET_ISA=avx2 (as for fp32) or =avx-vnni holds it to those.
std::vector<const KernelTable*> families_here();
const KernelTable* fastest();  // nullptr without AVX2

}  // namespace squeezenet::x86::int8
