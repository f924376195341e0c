#include <immintrin.h>

#include "kernels/x86/kept_fp32_impl.h"

namespace squeezenet::x86::kept {

namespace {
struct Avx512 {
  using type = __m512;
  static constexpr int lanes = 16;
  static type load(const float* p) { return _mm512_load_ps(p); }
  static type broadcast(float v) { return _mm512_set1_ps(v); }
  static type fma(type a, type b, type c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(float* p, type v) { _mm512_store_ps(p, v); }
};
}  // namespace

// 8 pixels x 2 vectors: 16 of the 32 zmm registers hold sums.
void conv_avx512(const PackedConv& k, const IO& io, int64_t first, int64_t last) {
  conv_impl<Avx512, 8>(k, io, first, last);
}

}  // namespace squeezenet::x86::kept
