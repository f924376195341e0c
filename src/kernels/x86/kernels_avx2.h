#pragma once
// AVX2 + FMA kernels on NHWC activations, and the packed weights every x86 family shares (kernel_table.h
// gathers a family's kernels; the AVX-512 ones are the same code over wider vectors). Callable only where
// kernels::has_avx2_fma() is true: their translation units are built with -mavx2 -mfma, the rest of the library
// is not.
//
// Every conv is an implicit GEMM: output pixels are the rows, output channels the columns, and the reduction
// runs over kernel rows, each a contiguous run of (kernel column, input channel) in NHWC memory. Padding is the
// producer's job: a conv reads a frame whose zero border is already there, so the inner loop never branches.
#include <cstdint>
#include <vector>

#include "squeezenet/tensor.h"

namespace squeezenet::avx2 {

constexpr int kTileChannels = 16;  // the unit of output channels: weights are packed in blocks of 16
constexpr int kMaxTileBlocks = 4;  // blocks side by side in the widest register tile (AVX-512's Winograd)
// Winograd tiles transformed together: their transformed inputs, [n*n][tiles][C], and products,
// [tiles][n*n][up to 64], stay in L2. Blocks are kWinogradBlockStep tiles, the last up to kWinogradBlockTiles.
constexpr int kWinogradBlockStep = 24, kWinogradBlockTiles = 30;

using AlignedFloats = std::vector<float, AlignedAllocator<float>>;

// A conv's weights repacked for the micro-kernel: for every block of 16 output channels one panel
// [kernel row][kernel column][input channel][16], zero-filled past out_channels; bias likewise padded.
// The bf16 families convert the panels once (bf16.h): per block and kernel row, the row's run of
// (kernel column, input channel) in pairs, [pair][16][2], the odd run's last pair zero-filled; `panels` is then
// empty, the bias stays fp32.
struct PackedConv {
  int in_channels = 0, out_channels = 0, kernel = 1, stride = 1;
  AlignedFloats panels, bias;
  std::vector<uint16_t, AlignedAllocator<uint16_t>> bf16_panels;
  int blocks() const { return (out_channels + kTileChannels - 1) / kTileChannels; }
  int64_t panel_size() const { return int64_t{kernel} * kernel * in_channels * kTileChannels; }
  int run() const { return kernel * in_channels; }
  int run_pairs() const { return (run() + 1) / 2; }
  int64_t bf16_panel_size() const { return int64_t{kernel} * run_pairs() * 2 * kTileChannels; }
};
// weight [O, C, K, K] and bias [O] as torchvision stores them.
PackedConv pack_conv(const Tensor& weight, const Tensor& bias, int stride);

// Where a conv reads and writes. Strides are in floats, so a frame may have a border and an output may be a
// channel slice of a wider tensor (a Fire's expand branches write their halves of the concatenation).
struct ConvIO {
  const float* in = nullptr;  // the input pixel under output (0, 0)'s top-left tap
  int64_t in_pixel = 0, in_row = 0;
  float* out = nullptr;  // output (0, 0), first channel of this conv's slice
  int64_t out_pixel = 0, out_row = 0;
  int out_h = 0, out_w = 0;
  // The bf16 families' activations between layers (plan.cpp): where set, the input or output is these bf16
  // values instead of `in` or `out`, the strides counting them. Only the bf16 kernels read them.
  const uint16_t* in_bf16 = nullptr;
  uint16_t* out_bf16 = nullptr;
  int64_t pixels() const { return int64_t{out_h} * out_w; }
};

// out = relu(conv(in) + bias) for the flattened output pixels [pixel_begin, pixel_end) and the 16-channel
// blocks [block_begin, block_end). Each output value is summed in the same order whatever the ranges, so
// splitting work between threads does not change results.
void conv_relu(const PackedConv& conv, const ConvIO& io, int64_t pixel_begin, int64_t pixel_end, int block_begin,
               int block_end);

// The classifier head: for the channel blocks [block_begin, block_end), sums[o] = sum over all output pixels
// of relu(conv(in) + bias)[o]; nothing is stored per pixel. `sums` has out_channels entries.
void conv_relu_channel_sums(const PackedConv& conv, const ConvIO& io, int block_begin, int block_end, float* sums);

// A 3x3 stride-1 conv for Winograd F(tile x tile, 3x3), tile 2 or 4: per 16-channel block and transformed
// position a panel [in channel][16] of G k G^T; bias padded like PackedConv's. The bf16 families round the
// panels once (bf16.h) to [in channel pair][16][2], the odd count's last pair zero-filled; `panels` is then empty.
struct PackedWinograd {
  int tile = 2, in_channels = 0, out_channels = 0;
  AlignedFloats panels, bias;
  std::vector<uint16_t, AlignedAllocator<uint16_t>> bf16_panels;
  int blocks() const { return (out_channels + kTileChannels - 1) / kTileChannels; }
  int positions() const { return (tile + 2) * (tile + 2); }
  int in_pairs() const { return (in_channels + 1) / 2; }
  int64_t bf16_panel_size() const { return int64_t{in_pairs()} * 2 * kTileChannels; }  // one block, one position
};
PackedWinograd pack_winograd(const Tensor& weight, const Tensor& bias, int tile);

// Output tiles of an out_h x out_w map, the unit of work of winograd_relu.
int64_t winograd_tiles(int tile, int out_h, int out_w);
// Floats of per-thread scratch winograd_relu needs.
int64_t winograd_scratch_floats(const PackedWinograd& conv);

// conv_relu for the output tiles [tile_begin, tile_end) (row-major over the map of tiles). The input frame must
// read as zeros up to tile * ceil(out / tile) + 2 rows and columns, a little past the usual border when the
// output size is not a multiple of the tile. `scratch`: winograd_scratch_floats() floats, this thread's own.
void winograd_relu(const PackedWinograd& conv, const ConvIO& io, int64_t tile_begin, int64_t tile_end, float* scratch);

// MaxPool2d(3, 2, ceil_mode=True) on dense NHWC [h, w, c], output rows [row_begin, row_end) of
// [pool_output_size(h), pool_output_size(w), c]. NaN propagates as in PyTorch.
void max_pool_3x3s2_ceil(const float* in, int h, int w, int c, float* out, int row_begin, int row_end);
// The same for input that holds no NaN, such as a ReLU's output here (vmaxps against 0 returns the 0).
void max_pool_3x3s2_ceil_no_nan(const float* in, int h, int w, int c, float* out, int row_begin, int row_end);

// One image [3, h, w] to NHWC, rows [row_begin, row_end). False when some value there is NaN or infinite.
bool rgb_to_nhwc(const float* in, int h, int w, float* out, int row_begin, int row_end);

// Fused multiply-adds per second this core sustains from registers, as GFLOP/s (2 per lane), over `seconds`.
double fma_peak_gflops(double seconds);

}  // namespace squeezenet::avx2
