// The training backward's kernels for AVX2 + FMA: grad_kernels.h's tiles, 6 rows x 16 columns in 12 ymm
// accumulators, and nhwc_ops.h's loops compiled for it.
#include <immintrin.h>

#include <cstdint>

#include "squeezenet/model.h"
#include "train/grad_kernels.h"
#include "train/grad_kernels_isa.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

namespace squeezenet::train::avx2 {
namespace {

struct Isa {
  using V = __m256;
  static constexpr int kVecs = 2, kMaxPanels = 1;
  static constexpr int weight_rows(int) { return 6; }
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static __m256i first(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load_first(const float* p, int n) { return _mm256_maskload_ps(p, first(n)); }
  static void store_first(float* p, V v, int n) { _mm256_maskstore_ps(p, first(n), v); }
};

#include "train/grad_kernels_impl.h"

}  // namespace

#include "train/grad_kernels_entries.h"

}  // namespace squeezenet::train::avx2

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
