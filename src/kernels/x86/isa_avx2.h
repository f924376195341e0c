#pragma once
// The vector operations the x86 kernels are written in, for AVX2 + FMA: 8 lanes, a register tile of 6 rows times
// one 16-channel block (12 ymm accumulators, 2 weight vectors, 1 broadcast). Include only from *_avx2.cpp files.
#include <immintrin.h>

namespace squeezenet::x86 {

struct Avx2 {
  using Vec = __m256;
  static constexpr int lanes = 8;
  static constexpr int tile_blocks = 1;
  static constexpr int wide_blocks = 1;
  static constexpr int tile_rows(int /*blocks*/) { return 6; }
  static constexpr int split_pixels = 6;  // pixel ranges cut on multiples of this keep tiles whole
  static constexpr int pointer_rows = 6;  // tiles of more rows copy their input first (microkernel.h)

  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  // Lanes [0, n) set: none for n <= 0, all for n >= lanes.
  static __m256i first(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  // Loads or stores lanes [0, n) only; the rest of the vector loads as 0, and memory past them is not touched.
  static Vec load_first(const float* p, int n) { return _mm256_maskload_ps(p, first(n)); }
  static void store_first(float* p, Vec v, int n) { _mm256_maskstore_ps(p, first(n), v); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  // max(m, v) that keeps a NaN once seen, from either side, as PyTorch's max-pool does (vmaxps alone returns
  // its second operand when either is NaN).
  static Vec max_keep_nan(Vec m, Vec v) {
    return _mm256_blendv_ps(_mm256_max_ps(m, v), m, _mm256_cmp_ps(m, m, _CMP_UNORD_Q));
  }
  static Vec set1(float x) { return _mm256_set1_ps(x); }
  // Lanes where x is neither NaN nor infinite (x - x is 0 only for those), as a bit mask.
  static unsigned finite_lanes(Vec x) {
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_sub_ps(x, x), zero(), _CMP_EQ_OQ)));
  }
  static constexpr unsigned all_lanes = 0xFF;
  // Three planes' lanes as pixels: out = r0 g0 b0 r1 g1 b1 ... (24 floats). AVX2 has no two-source permute
  // across 128-bit lanes, so the interleave goes through memory.
  static void store_interleaved3(float* out, Vec r, Vec g, Vec b) {
    alignas(32) float t[3][lanes];
    _mm256_store_ps(t[0], r);
    _mm256_store_ps(t[1], g);
    _mm256_store_ps(t[2], b);
    for (int i = 0; i < lanes; ++i) out[3 * i] = t[0][i], out[3 * i + 1] = t[1][i], out[3 * i + 2] = t[2][i];
  }
};

}  // namespace squeezenet::x86
