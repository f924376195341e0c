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
  static type relu(type v) { return _mm256_max_ps(v, _mm256_setzero_ps()); }
  static type mul(type a, type b) { return _mm256_mul_ps(a, b); }
  static type min(type a, type b) { return _mm256_min_ps(a, b); }
  // v in [0, 255]: rounded to the nearest even integer by the conversion, then narrowed without saturating.
  static void store_u8(uint8_t* p, type v) {
    const __m256i i = _mm256_cvtps_epi32(v);
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(w, w));
  }
};
}  // namespace

// 3 pixels x 4 vectors: 12 of the 16 ymm registers hold sums.
void conv_avx2(const PackedConv& k, const IO& io, int64_t first, int64_t last) { conv_impl<Avx2, 3>(k, io, first, last); }

}  // namespace squeezenet::x86::kept
