#include <immintrin.h>

#include "kernels/x86/kept_fp32_impl.h"

namespace squeezenet::x86::kept {

namespace {
// The masked forms (all lanes) because GCC 12 warns about the _mm512_undefined_* inside the plain ones.
struct Avx512 {
  using type = __m512;
  static constexpr int lanes = 16;
  static type load(const float* p) { return _mm512_load_ps(p); }
  static type broadcast(float v) { return _mm512_set1_ps(v); }
  static type fma(type a, type b, type c) { return _mm512_fmadd_ps(a, b, c); }
  static void store(float* p, type v) { _mm512_store_ps(p, v); }
  static type relu(type v) { return _mm512_maskz_max_ps(0xFFFF, v, _mm512_setzero_ps()); }
  static type mul(type a, type b) { return _mm512_mul_ps(a, b); }
  static type min(type a, type b) { return _mm512_maskz_min_ps(0xFFFF, a, b); }
  // v in [0, 255]: rounded to the nearest even integer by the conversion, then narrowed.
  static void store_u8(uint8_t* p, type v) {
    _mm512_mask_cvtepi32_storeu_epi8(p, 0xFFFF, _mm512_maskz_cvtps_epi32(0xFFFF, v));
  }
};
}  // namespace

// 8 pixels x 2 vectors: 16 of the 32 zmm registers hold sums.
void conv_avx512(const PackedConv& k, const IO& io, int64_t first, int64_t last) {
  conv_impl<Avx512, 8>(k, io, first, last);
}

}  // namespace squeezenet::x86::kept
