#pragma once
// The AVX512-BF16 head (conv_relu_channel_sums) when it has more than one block group: each group of 48 output
// pixels' inputs converted to bf16 pairs once, into a buffer on the stack, and every block group's tiles run over
// those pairs (Bf16Gemm::tile, the Winograd GEMM's), where the generic tile converts its rows again for each block
// group, 21 times on the 1000-class head: 0.44 -> 0.40 ms on one thread. The other convs keep the generic tile,
// which converts M rows at a time into a small buffer at fixed stack offsets: over pair rows converted once,
// 1.0's stem (2 block groups) and the expand1x1 convs (2-6) ran 1-3 % slower. Each output sums the same pairs in
// the same order as the generic tile; each channel's sum over the pixels goes group by group in pixel order.
// Include only from *_avx512bf16.cpp files.
#include <algorithm>

#include "kernels/x86/conv_impl.h"
#include "kernels/x86/winograd_bf16_impl.h"

namespace squeezenet::x86 {
namespace {

constexpr int kPairGroup = 48, kMaxPairs = 512;

// The pixel group [g0, g0 + count)'s windows as pair rows: per kernel row its run in pairs, the odd run's last
// pair zero-filled, as the panels are; from fp32 input rounded, from bf16 input (ConvIO::in_bf16) copied.
struct PairRows {
  alignas(64) uint32_t pairs[kPairGroup][kMaxPairs + 16];  // + 16: to_pairs fills whole vectors
  const uint16_t* rows[kPairGroup];
  int count = 0;

  static bool fits(const PackedConv& c) { return c.kernel * c.run_pairs() <= kMaxPairs; }
  void convert(const PackedConv& c, const ConvIO& io, int64_t g0, int64_t end) {
    if (io.in_bf16)
      convert(c, io, io.in_bf16, g0, end);
    else
      convert(c, io, io.in, g0, end);
  }
  template <class In>
  void convert(const PackedConv& c, const ConvIO& io, const In* in0, int64_t g0, int64_t end) {
    count = static_cast<int>(end - g0);
    const int run = c.run(), run_pairs = c.run_pairs();
    int64_t oh = g0 / io.out_w, ow = g0 % io.out_w;
    for (int i = 0; i < count; ++i) {
      const In* in = in0 + oh * c.stride * io.in_row + ow * c.stride * io.in_pixel;
      for (int s = 0; s < c.kernel; ++s)
        for (int k0 = 0; k0 < run; k0 += 64)
          Avx512Bf16::to_pairs(in + s * io.in_row + k0, std::min(64, run - k0), pairs[i] + s * run_pairs + k0 / 2);
      rows[i] = reinterpret_cast<const uint16_t*>(pairs[i]);
      if (++ow == io.out_w) ow = 0, ++oh;
    }
  }
  template <int M, int NB>
  detail::Acc<Avx512Bf16, M, NB> tile(const PackedConv& c, int i, int b) const {
    return Bf16Gemm::tile<M, NB>(rows + i, c.bf16_panels.data() + b * c.bf16_panel_size(), c.bf16_panel_size(),
                                 c.bias.data() + b * kTileChannels, 2 * c.kernel * c.run_pairs());
  }
};

bool one_block_group(int block_begin, int block_end) { return block_end - block_begin <= Avx512Bf16::tile_blocks; }

void conv_relu_channel_sums_avx512bf16(const PackedConv& c, const ConvIO& io, int block_begin, int block_end,
                                       float* sums) {
  if (one_block_group(block_begin, block_end) || !PairRows::fits(c))
    return conv_relu_channel_sums<Avx512Bf16>(c, io, block_begin, block_end, sums);
  const int o_end = std::min(c.out_channels, block_end * kTileChannels);
  std::fill(sums + block_begin * kTileChannels, sums + o_end, 0.0f);
  PairRows g;
  for (int64_t g0 = 0; g0 < io.pixels(); g0 += kPairGroup) {
    g.convert(c, io, g0, std::min(io.pixels(), g0 + kPairGroup));
    detail::for_each_block_group<Avx512Bf16>(block_begin, block_end, [&](auto nb, int b) {
      constexpr int NB = decltype(nb)::value;
      __m512 s[NB];
      for (auto& v : s) v = _mm512_setzero_ps();
      detail::for_each_tile<Avx512Bf16, NB>(g.count, [&](auto m, int i) {
        auto a = g.tile<decltype(m)::value, NB>(c, i, b);
        detail::relu(a);
        for (const auto& row : a.v)
          for (int q = 0; q < NB; ++q) s[q] = _mm512_add_ps(s[q], row[q]);
      });
      alignas(64) float total[NB * kTileChannels];
      for (int q = 0; q < NB; ++q) _mm512_store_ps(total + q * kTileChannels, s[q]);
      const int valid = std::min(NB * kTileChannels, c.out_channels - b * kTileChannels);
      for (int o = 0; o < valid; ++o) sums[b * kTileChannels + o] += total[o];
    });
  }
}

}  // namespace
}  // namespace squeezenet::x86
