#pragma once
// Winograd at bf16 (winograd_impl.h's transforms and blocking): the transforms in fp32, each transformed input
// rounded to bf16 once as it is stored, the n*n channel GEMMs with vdpbf16ps against G k G^T rounded once when
// the plan is built (bf16::pack_winograd), fp32 sums. winograd_reference_bf16.cpp defines the numbers. Include
// only from *_avx512bf16.cpp files, which are built without fused multiply-adds the code does not ask for, so
// that the transforms round as the reference's do.
#include <cstring>

#include "kernels/x86/isa_avx512bf16.h"
#include "kernels/x86/winograd_impl.h"

namespace squeezenet::x86 {
namespace {

// winograd_relu's G for AVX512-BF16: transformed inputs as bf16, channels in pairs, an odd count's last pair
// zero-filled like the weights.
struct Bf16Gemm {
  using T = Avx512Bf16;
  using In = uint16_t;
  static int row(int channels) { return channels + channels % 2; }
  template <class W>
  static void input(const float* base, int64_t in_pixel, int64_t in_row, int channels, uint16_t* v, int64_t plane) {
    const int stored = row(channels);
    for (int c = 0; c < channels; c += T::lanes) {
      const __mmask16 load = T::first(channels - c), keep = T::first(stored - c);
      input_2d<W, __m512>(
          [&](int r, int s) { return _mm512_maskz_loadu_ps(load, base + r * in_row + s * in_pixel + c); },
          [&](int x, __m512 value) {
            _mm256_mask_storeu_epi16(v + x * plane + c, keep, reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(value)));
          });
    }
  }
  static int64_t panel_stride(const PackedWinograd& p) { return p.positions() * p.bf16_panel_size(); }
  static const uint16_t* panel(const PackedWinograd& p, int b, int x) {
    return p.bf16_panels.data() + (int64_t{b} * p.positions() + x) * p.bf16_panel_size();
  }
  template <int M, int NB>
  static detail::Acc<T, M, NB> tile(const uint16_t* const* rows, const uint16_t* panel, int64_t panel_stride,
                                    const float* bias, int channels) {
    detail::Acc<T, M, NB> a;
#pragma GCC unroll 8
    for (int q = 0; q < NB; ++q) {
      const __m512 init = bias ? T::load(bias + q * kTileChannels) : T::zero();
#pragma GCC unroll 12
      for (int j = 0; j < M; ++j) a.v[j][q] = init;
    }
    const int pairs = (channels + 1) / 2;
    const uint16_t* w = panel;
    for (int k = 0; k < pairs; ++k, w += 2 * kTileChannels) {
      __m512bh wv[NB];
#pragma GCC unroll 8
      for (int q = 0; q < NB; ++q) wv[q] = reinterpret_cast<__m512bh>(_mm512_load_si512(w + q * panel_stride));
#pragma GCC unroll 12
      for (int j = 0; j < M; ++j) {
        int32_t pair;
        std::memcpy(&pair, rows[j] + 2 * k, sizeof pair);
        const __m512bh x = reinterpret_cast<__m512bh>(_mm512_set1_epi32(pair));
#pragma GCC unroll 8
        for (int q = 0; q < NB; ++q) a.v[j][q] = _mm512_dpbf16_ps(a.v[j][q], x, wv[q]);
      }
    }
    return a;
  }
};

void winograd_relu_avx512bf16(const PackedWinograd& p, const ConvIO& io, int64_t tile_begin, int64_t tile_end,
                              float* scratch) {
  if (p.tile == 2)
    winograd_relu<Avx512Bf16, F2, Bf16Gemm>(p, io, tile_begin, tile_end, scratch);
  else
    winograd_relu<Avx512Bf16, F4, Bf16Gemm>(p, io, tile_begin, tile_end, scratch);
}

}  // namespace
}  // namespace squeezenet::x86
