#include <immintrin.h>

#include "kernels/x86/kept_fp32_impl.h"

namespace squeezenet::x86::kept {

namespace {
struct Avx2 {
  using type = __m256;
  static constexpr int lanes = 8;
  static type load(const float* p) { return _mm256_load_ps(p); }
  static type broadcast(float v) { return _mm256_set1_ps(v); }
  static type fma(type a, type b, type c) { return _mm256_fmadd_ps(a, b, c); }
  static void store(float* p, type v) { _mm256_store_ps(p, v); }
};
}  // namespace

// 3 pixels x 4 vectors: 12 of the 16 ymm registers hold sums.
void conv_avx2(const PackedConv& k, const IO& io, int64_t first, int64_t last) { conv_impl<Avx2, 3>(k, io, first, last); }

}  // namespace squeezenet::x86::kept
