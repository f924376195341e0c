#pragma once
// AVX512-BF16: the AVX-512 register tile (8 rows x 3 blocks, 12 x 2, 12 x 1) with vdpbf16ps, two multiply-adds
// per lane per instruction into fp32 accumulators. Each tile converts its rows' input to bf16 pairs on the stack
// as it goes, in runs of 64 values, the way the fp32 tile copies long runs (microkernel.h): one conversion per
// 16 pairs against NB * 16 vdpbf16ps, and the broadcasts read from fixed stack offsets. Include only from
// *_avx512bf16.cpp files.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/x86/isa_avx512.h"
#include "kernels/x86/microkernel.h"

namespace squeezenet::x86 {

// A type of its own, so that nothing instantiated for it is shared with the AVX-512F code.
struct Avx512Bf16 : Avx512 {
  static constexpr bool bf16_activations = true;  // reads and writes ConvIO::in_bf16 and out_bf16

  // Lanes [0, n) of v rounded to bf16 (vcvtneps2bf16: bf16.h's rule) at p; nothing past them is touched.
  static void store_bf16(uint16_t* p, Vec v, int n) {
    const __m256i b = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
    if (n >= lanes)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), b);
    else if (n > 0)
      _mm256_mask_storeu_epi16(p, first(n), b);
  }
  // 0 < n <= 64 floats to n rounded bf16 in pairs, zero-filled to a multiple of 16 pairs: a run of 32 or fewer
  // (an expand1x1 over a 16-channel squeeze, the last 32 of 96 channels, 1.0's 147-value stem windows' last 19)
  // converts one vector, not two.
  static void to_pairs(const float* p, int n, uint32_t* out) {
    for (int h = 0; h < (n + 31) / 32; ++h) {
      const __m512 lo = load_first(p + 32 * h, n - 32 * h), hi = load_first(p + 32 * h + 16, n - 32 * h - 16);
      _mm512_storeu_si512(out + 16 * h, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
    }
  }

  // The same for input already in bf16: copied, the odd run's last pair zero-filled.
  static void to_pairs(const uint16_t* p, int n, uint32_t* out) {
    for (int h = 0; h < (n + 31) / 32; ++h) {
      const int k = std::min(32, n - 32 * h);
      const __mmask32 m = k >= 32 ? ~__mmask32{0} : (__mmask32{1} << k) - 1;
      _mm512_storeu_si512(out + 16 * h, _mm512_maskz_loadu_epi16(m, p + 32 * h));
    }
  }

  template <int M, int NB, class In>
  static detail::Acc<Avx512Bf16, M, NB> conv_tile(const avx2::PackedConv& c, const In* const* in, int b,
                                                  const detail::Reduction& r) {
    constexpr int chunk = 64, lanes16 = avx2::kTileChannels;
    detail::Acc<Avx512Bf16, M, NB> a;
#pragma GCC unroll 8
    for (int q = 0; q < NB; ++q) {
      const Vec bias = load(c.bias.data() + (b + q) * lanes16);
#pragma GCC unroll 12
      for (int j = 0; j < M; ++j) a.v[j][q] = bias;
    }
    const int64_t panel_stride = c.bf16_panel_size();
    const uint16_t* w = c.bf16_panels.data() + b * panel_stride;
    alignas(64) uint32_t rows[M][chunk / 2];
    for (int s = 0; s < r.rows; ++s)
      for (int k0 = 0; k0 < r.run; k0 += chunk) {
        const int n = std::min(chunk, r.run - k0), pairs = (n + 1) / 2;
#pragma GCC unroll 12
        for (int j = 0; j < M; ++j) to_pairs(in[j] + s * r.row_stride + k0, n, rows[j]);
        for (int p = 0; p < pairs; ++p, w += 2 * lanes16) {
          __m512bh wv[NB];
#pragma GCC unroll 8
          for (int q = 0; q < NB; ++q)
            wv[q] = reinterpret_cast<__m512bh>(_mm512_load_si512(w + q * panel_stride));
#pragma GCC unroll 12
          for (int j = 0; j < M; ++j) {
            const __m512bh x = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(rows[j][p])));
#pragma GCC unroll 8
            for (int q = 0; q < NB; ++q) a.v[j][q] = _mm512_dpbf16_ps(a.v[j][q], x, wv[q]);
          }
        }
      }
    return a;
  }
};

// max_pool_3x3s2_ceil's vector operations (pool_impl.h) on bf16 ReLU outputs: 32 channels a vector, and
// non-negative bf16 order as unsigned 16-bit integers do, so vpmaxuw is their max.
struct Avx512Bf16Max {
  using Vec = __m512i;
  static constexpr int lanes = 32;
  static Vec load(const uint16_t* p) { return _mm512_loadu_si512(p); }
  static void store(uint16_t* p, Vec v) { _mm512_storeu_si512(p, v); }
  static Vec max(Vec a, Vec b) { return _mm512_max_epu16(a, b); }
};

}  // namespace squeezenet::x86
