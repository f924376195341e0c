#pragma once
// AVX512-VNNI traits of the int8 kernels (int8_impl.h): one zmm holds 16 int32 output channels; a register tile
// is 6 pixels x 4 blocks (24 accumulators, 4 weight vectors, one broadcast), or 8 pixels for 3 blocks or fewer.
// Include only from *_avx512.cpp files.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace squeezenet::x86::int8 {

struct Avx512Vnni {
  using Acc = __m512i;
  using A = __m512i;
  using W = __m512i;
  using F = __m512;
  static constexpr int lanes = 16, group_blocks = 4, max_pixels = 8, peak_chains = 24;
  static constexpr bool products_first = false;  // vpdpbusd reads its accumulator
  static constexpr bool pair_stores = false;     // one masked store a block
  static constexpr int pixels(int blocks) { return blocks >= 4 ? 6 : 8; }

  static Acc zero() { return _mm512_setzero_si512(); }
  static Acc set1_i32(int32_t v) { return _mm512_set1_epi32(v); }
  static W load_w(const int8_t* p) { return _mm512_load_si512(p); }
  static A broadcast(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static A broadcast_value(int32_t v) { return _mm512_set1_epi32(v); }
  static W w_value(int32_t v) { return _mm512_set1_epi32(v); }
  static Acc dot(Acc acc, A a, W w) { return _mm512_dpbusd_epi32(acc, a, w); }
  static Acc add(Acc a, Acc b) { return _mm512_add_epi32(a, b); }
  static Acc sub(Acc a, Acc b) { return _mm512_sub_epi32(a, b); }
  static Acc load_i32(const int32_t* p) { return _mm512_load_si512(p); }
  static F load_f32(const float* p) { return _mm512_loadu_ps(p); }
  static __mmask16 first(int n) { return n >= lanes ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1); }

  // vmaxps / vminps return their second operand unless the first compares greater / less: (y > 0 ? y : 0).
  static F clamp_u8(F y) {
    return _mm512_maskz_min_ps(0xFFFF, _mm512_maskz_max_ps(0xFFFF, y, _mm512_setzero_ps()), _mm512_set1_ps(255.0f));
  }
  // The all-lanes masked forms: GCC 12's unmasked ones trip -Wmaybe-uninitialized on its own header.
  static F to_float(Acc v) { return _mm512_maskz_cvtepi32_ps(0xFFFF, v); }
  static Acc to_int(F y) { return _mm512_maskz_cvtps_epi32(0xFFFF, y); }
  static Acc requantize(Acc v, F m, F b) { return to_int(clamp_u8(_mm512_fmadd_ps(to_float(v), m, b))); }
  static F dequantize_relu(Acc v, F m, F b) {
    return _mm512_maskz_max_ps(0xFFFF, _mm512_fmadd_ps(to_float(v), m, b), _mm512_setzero_ps());
  }
  static void store_u8(uint8_t* p, Acc v, int n) { _mm512_mask_cvtepi32_storeu_epi8(p, first(n), v); }
  static void store_f32(float* p, F v, int n) { _mm512_mask_storeu_ps(p, first(n), v); }
  static void store_i32(int32_t* p, Acc v, int n) { _mm512_mask_storeu_epi32(p, first(n), v); }

  // The image conversion.
  static F fma(F x, float m, float b) { return _mm512_fmadd_ps(x, _mm512_set1_ps(m), _mm512_set1_ps(b)); }
  static Acc round_clamp_u8(F y) { return to_int(clamp_u8(y)); }
  static bool all_finite(F x) {
    return _mm512_cmp_ps_mask(_mm512_sub_ps(x, x), _mm512_setzero_ps(), _CMP_EQ_OQ) == 0xFFFF;
  }
  static Acc bit_or(Acc a, Acc b) { return _mm512_or_si512(a, b); }
  static Acc shift_left(Acc a, int bits) { return _mm512_maskz_sllv_epi32(0xFFFF, a, _mm512_set1_epi32(bits)); }

  // The stem's window layout: 16 pixels of 4 bytes, their first 3 bytes each packed into 48.
  static void store_rgb(uint8_t* p, Acc v) {
    const __m512i three = _mm512_shuffle_epi8(v, _mm512_set4_epi32(-1, 0x0E0D0C0A, 0x09080605, 0x04020100));
    const __m512i dwords = _mm512_setr_epi32(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0, 0, 0, 0);
    _mm512_mask_storeu_epi8(p, 0xFFFFFFFFFFFFull, _mm512_maskz_permutexvar_epi32(0xFFFF, dwords, three));
  }
};

}  // namespace squeezenet::x86::int8
