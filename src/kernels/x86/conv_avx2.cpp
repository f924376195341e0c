// Implicit-GEMM convolution: a 6-pixel x 16-channel register tile, bias in the accumulators, ReLU on the way out.
#include <immintrin.h>

#include <algorithm>

#include "kernels/x86/kernels_avx2.h"
#include "kernels/x86/microkernel_avx2.h"
#include "squeezenet/error.h"

namespace squeezenet::avx2 {

PackedConv pack_conv(const Tensor& weight, const Tensor& bias, int stride) {
  if (weight.ndim() != 4 || weight.dim(2) != weight.dim(3) || bias.ndim() != 1 || bias.dim(0) != weight.dim(0))
    throw Error("pack_conv: weight " + shape_str(weight.shape()) + " and bias " + shape_str(bias.shape()) +
                " are not a square conv's");
  PackedConv p;
  p.out_channels = static_cast<int>(weight.dim(0));
  p.in_channels = static_cast<int>(weight.dim(1));
  p.kernel = static_cast<int>(weight.dim(2));
  p.stride = stride;
  const int O = p.out_channels, C = p.in_channels, K = p.kernel;
  p.panels.assign(static_cast<std::size_t>(p.blocks() * p.panel_size()), 0.0f);
  p.bias.assign(static_cast<std::size_t>(p.blocks() * kTileChannels), 0.0f);
  for (int o = 0; o < O; ++o) {
    float* panel = p.panels.data() + (o / kTileChannels) * p.panel_size() + o % kTileChannels;
    for (int kh = 0; kh < K; ++kh)
      for (int kw = 0; kw < K; ++kw)
        for (int c = 0; c < C; ++c)
          panel[((kh * K + kw) * C + c) * kTileChannels] = weight[((int64_t{o} * C + c) * K + kh) * K + kw];
    p.bias[static_cast<std::size_t>(o)] = bias[o];
  }
  return p;
}

namespace {

using detail::Reduction;

// Tiles are grouped so that a group's input rows stay in L1/L2 while every channel block's panel sweeps them.
constexpr int kGroupTiles = 8;
constexpr int kGroupPixels = kGroupTiles * kTilePixels;

struct Group {
  const float* in[kGroupPixels];
  float* out[kGroupPixels];
  int count = 0;
};

void locate(const PackedConv& c, const ConvIO& io, int64_t begin, int64_t end, Group& g) {
  g.count = static_cast<int>(end - begin);
  int64_t oh = begin / io.out_w, ow = begin % io.out_w;
  for (int i = 0; i < g.count; ++i) {
    g.in[i] = io.in + oh * c.stride * io.in_row + ow * c.stride * io.in_pixel;
    g.out[i] = io.out + oh * io.out_row + ow * io.out_pixel;
    if (++ow == io.out_w) ow = 0, ++oh;
  }
}

Reduction reduction_of(const PackedConv& c, const ConvIO& io) {
  return {c.kernel, io.in_row, c.kernel * c.in_channels};
}

}  // namespace

void conv_relu(const PackedConv& c, const ConvIO& io, int64_t pixel_begin, int64_t pixel_end, int block_begin,
               int block_end) {
  const Reduction r = reduction_of(c, io);
  Group g;
  for (int64_t g0 = pixel_begin; g0 < pixel_end; g0 += kGroupPixels) {
    locate(c, io, g0, std::min(pixel_end, g0 + kGroupPixels), g);
    for (int b = block_begin; b < block_end; ++b) {
      const float* panel = c.panels.data() + b * c.panel_size();
      const float* bias = c.bias.data() + b * kTileChannels;
      const __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
      const int valid = std::min(kTileChannels, c.out_channels - b * kTileChannels);
      const int64_t off = int64_t{b} * kTileChannels;
      detail::for_each_tile(g.count, [&](auto m, int i) {
        auto a = detail::gemm_tile<decltype(m)::value>(g.in + i, panel, b0, b1, r);
        detail::relu(a);
        detail::store(a, g.out + i, off, valid);
      });
    }
  }
}

void conv_relu_channel_sums(const PackedConv& c, const ConvIO& io, int block_begin, int block_end, float* sums) {
  const Reduction r = reduction_of(c, io);
  const int64_t pixels = io.pixels();
  Group g;
  for (int b = block_begin; b < block_end; ++b) {
    const float* panel = c.panels.data() + b * c.panel_size();
    const float* bias = c.bias.data() + b * kTileChannels;
    const __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    for (int64_t g0 = 0; g0 < pixels; g0 += kGroupPixels) {
      locate(c, io, g0, std::min(pixels, g0 + kGroupPixels), g);
      detail::for_each_tile(g.count, [&](auto m, int i) {
        auto a = detail::gemm_tile<decltype(m)::value>(g.in + i, panel, b0, b1, r);
        detail::relu(a);
        for (const auto& row : a.v) s0 = _mm256_add_ps(s0, row[0]), s1 = _mm256_add_ps(s1, row[1]);
      });
    }
    alignas(32) float s[kTileChannels];
    _mm256_store_ps(s, s0);
    _mm256_store_ps(s + 8, s1);
    const int valid = std::min(kTileChannels, c.out_channels - b * kTileChannels);
    std::copy(s, s + valid, sums + int64_t{b} * kTileChannels);
  }
}

}  // namespace squeezenet::avx2
