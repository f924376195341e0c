#pragma once
// The vector operations of the x86 kernels for AVX-512F: 16 lanes, so one zmm holds a 16-channel block. The
// register tile is 8 rows x 3 blocks (24 zmm accumulators, 3 weight vectors, broadcasts folded into the FMAs),
// or 12 rows for 2 blocks and 1. Measured on the network's convs against 6 x 4 and 12 x 2: 8 x 3 is 5-20 %
// faster on the stem and the head, as its 8 row pointers stay in general registers (12 spill to the stack)
// and its 3 panels, less than 4's, stay nearer the core. Winograd's GEMMs, whose reductions are short (16-64
// input channels), run 6 rows x 4 blocks instead: one pass over the transformed inputs for 64 channels rather
// than two, 7-10 % faster on squeezenet1_1's 55x55 and 27x27 expands. Include only from *_avx512.cpp files.
#include <immintrin.h>

namespace squeezenet::x86 {

// Output float 16m + l of three interleaved 16-lane planes is pixel e / 3, channel e % 3 (e = 16m + l); as
// permute indices, >= 16 selects from the second source.
struct Interleave3 {
  int rg[3][16], pixel[3][16];
  __mmask16 is_blue[3];
};
constexpr Interleave3 make_interleave3() {
  Interleave3 t{};
  for (int m = 0; m < 3; ++m)
    for (int l = 0; l < 16; ++l) {
      const int e = m * 16 + l;
      t.pixel[m][l] = e / 3;
      t.rg[m][l] = e % 3 == 1 ? e / 3 + 16 : e / 3;
      if (e % 3 == 2) t.is_blue[m] = static_cast<__mmask16>(t.is_blue[m] | (1u << l));
    }
  return t;
}
constexpr Interleave3 kInterleave3 = make_interleave3();

struct Avx512 {
  using Vec = __m512;
  static constexpr int lanes = 16;
  static constexpr int tile_blocks = 3;
  static constexpr int wide_blocks = 4;  // Winograd's GEMMs
  static constexpr int tile_rows(int blocks) { return blocks >= 4 ? 6 : blocks == 3 ? 8 : 12; }
  static constexpr int split_pixels = 24;  // a multiple of 6, 8 and 12
  static constexpr int pointer_rows = 7;  // tiles of more rows copy their input first (microkernel.h)

  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  // Lanes [0, n) set: none for n <= 0, all for n >= lanes.
  static __mmask16 first(int n) {
    return n >= lanes ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : static_cast<__mmask16>((1u << n) - 1);
  }
  // Loads or stores lanes [0, n) only; the rest of the vector loads as 0, and memory past them is not touched.
  static Vec load_first(const float* p, int n) { return _mm512_maskz_loadu_ps(first(n), p); }
  static void store_first(float* p, Vec v, int n) { _mm512_mask_storeu_ps(p, first(n), v); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  // n floats from src to dst, with masked loads and stores for the tail: nothing past n is touched.
  static void copy(float* dst, const float* src, int n) {
    int i = 0;
    for (; i + lanes <= n; i += lanes) store(dst + i, load(src + i));
    if (i < n) store_first(dst + i, load_first(src + i, n - i), n - i);
  }
  // The all-lanes form of vmaxps: GCC 12's _mm512_max_ps trips -Wmaybe-uninitialized on its own header.
  static Vec max(Vec a, Vec b) { return _mm512_maskz_max_ps(0xFFFF, a, b); }
  // As Avx2::max_keep_nan, in two instructions: lanes where m is a number take max(m, v), which is v when v is
  // NaN; NaN lanes of m stay.
  static Vec max_keep_nan(Vec m, Vec v) { return _mm512_mask_max_ps(m, _mm512_cmp_ps_mask(m, m, _CMP_ORD_Q), m, v); }
  static Vec set1(float x) { return _mm512_set1_ps(x); }
  static unsigned finite_lanes(Vec x) { return _mm512_cmp_ps_mask(_mm512_sub_ps(x, x), zero(), _CMP_EQ_OQ); }
  static constexpr unsigned all_lanes = 0xFFFF;
  // out = r0 g0 b0 r1 g1 b1 ... (48 floats): per output vector, one two-source permute picks its red and green
  // values, a masked one its blue.
  static void store_interleaved3(float* out, Vec r, Vec g, Vec b) {
    for (int m = 0; m < 3; ++m) {
      const Vec t = _mm512_permutex2var_ps(r, _mm512_loadu_si512(kInterleave3.rg[m]), g);
      store(out + m * lanes,
            _mm512_mask_permutexvar_ps(t, kInterleave3.is_blue[m], _mm512_loadu_si512(kInterleave3.pixel[m]), b));
    }
  }
};

}  // namespace squeezenet::x86
