// The training backward's kernels for AVX-512: grad_kernels.h's tiles, up to 8 rows x 48 or 6 rows x 64 columns in
// 24 zmm accumulators, and nhwc_ops.h's loops compiled for it.
#include <immintrin.h>

#include <cstdint>

#include "squeezenet/model.h"
#include "train/grad_kernels.h"
#include "train/grad_kernels_isa.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif

namespace squeezenet::train::avx512 {
namespace {

struct Isa {
  using V = __m512;
  static constexpr int kVecs = 1, kMaxPanels = 4;
  static constexpr int weight_rows(int panels) { return panels < 4 ? 8 : 6; }
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static __mmask16 first(int n) {
    return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
  }
  static V load_first(const float* p, int n) { return _mm512_maskz_loadu_ps(first(n), p); }
  static void store_first(float* p, V v, int n) { _mm512_mask_storeu_ps(p, first(n), v); }
};

#include "train/grad_kernels_impl.h"

}  // namespace

#include "train/grad_kernels_entries.h"

}  // namespace squeezenet::train::avx512

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
