#pragma once
// AVX2 traits of the int8 kernels (int8_impl.h): 8 int32 output channels per ymm. Avx2Vnni multiplies with
// AVX-VNNI's vpdpbusd; without it, vpmaddubsw's u8 x s8 pair sums saturate at 16 bits unless the pair's two
// weights have |w0| + |w1| <= 128 (255 * 128 = 32640), as every 7-bit weight does. Avx2Int8Pairs runs a conv
// whose weights all fit so (PackedConv::pairs_fit_16), exactly: vpmaddubsw, then vpmaddwd by ones to 32 bits,
// 2 multiplies and an add per 4-byte dot product. Avx2Int8 runs any other conv, exactly: the bytes widened to
// 16 bits (even and odd bytes apart) and multiplied by vpmaddwd, whose pair sums fit 32 bits: 2 multiplies,
// 2 adds and 2 shifts or masks per dot product. Include only from *_avx2.cpp files.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace squeezenet::x86::int8 {

struct Avx2Int8Base {
  using Acc = __m256i;
  using F = __m256;
  static constexpr int lanes = 8, peak_chains = 12;
  static constexpr bool products_first = true;  // dot multiplies, then adds to the accumulator

  static Acc zero() { return _mm256_setzero_si256(); }
  static Acc set1_i32(int32_t v) { return _mm256_set1_epi32(v); }
  static int32_t word(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static Acc add(Acc a, Acc b) { return _mm256_add_epi32(a, b); }
  static Acc sub(Acc a, Acc b) { return _mm256_sub_epi32(a, b); }
  static Acc load_i32(const int32_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static F load_f32(const float* p) { return _mm256_loadu_ps(p); }
  static Acc mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }

  // vmaxps / vminps return their second operand unless the first compares greater / less: (y > 0 ? y : 0).
  static F clamp_u8(F y) { return _mm256_min_ps(_mm256_max_ps(y, _mm256_setzero_ps()), _mm256_set1_ps(255.0f)); }
  static Acc requantize(Acc v, F m, F b) {
    return _mm256_cvtps_epi32(clamp_u8(_mm256_fmadd_ps(_mm256_cvtepi32_ps(v), m, b)));
  }
  static F dequantize_relu(Acc v, F m, F b) {
    return _mm256_max_ps(_mm256_fmadd_ps(_mm256_cvtepi32_ps(v), m, b), _mm256_setzero_ps());
  }
  static void store_u8(uint8_t* p, Acc v, int n) {
    const __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i b8 = _mm_packus_epi16(w16, w16);
    if (n >= lanes) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), b8);
    } else {
      uint8_t tmp[16];
      _mm_storeu_si128(reinterpret_cast<__m128i*>(tmp), b8);
      std::memcpy(p, tmp, static_cast<std::size_t>(n));
    }
  }
  // Two blocks' requantized values (in [0, 255]) as 16 bytes: the packs work per 128-bit lane, the permute puts
  // the first block's 8 values before the second's.
  static constexpr bool pair_stores = true;
  static void store_u8_pair(uint8_t* p, Acc v0, Acc v1) {
    const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packus_epi32(v0, v1), 0xD8);
    const __m128i b8 = _mm_packus_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), b8);
  }
  static void store_f32(float* p, F v, int n) {
    if (n >= lanes)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, mask(n), v);
  }
  static void store_i32(int32_t* p, Acc v, int n) {
    if (n >= lanes)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
    else
      _mm256_maskstore_epi32(p, mask(n), v);
  }

  static F fma(F x, float m, float b) { return _mm256_fmadd_ps(x, _mm256_set1_ps(m), _mm256_set1_ps(b)); }
  static Acc round_clamp_u8(F y) { return _mm256_cvtps_epi32(clamp_u8(y)); }
  static bool all_finite(F x) {
    return _mm256_movemask_ps(_mm256_cmp_ps(_mm256_sub_ps(x, x), _mm256_setzero_ps(), _CMP_EQ_OQ)) == 0xFF;
  }
  static Acc bit_or(Acc a, Acc b) { return _mm256_or_si256(a, b); }
  static Acc shift_left(Acc a, int bits) { return _mm256_sllv_epi32(a, _mm256_set1_epi32(bits)); }
};

// Raw 4-byte operands (no widening): 12 accumulators (6 pixels x 2 blocks), 2 weight vectors and a broadcast fill
// the 16 ymm registers.
struct Avx2ByteOperands : Avx2Int8Base {
  using A = __m256i;
  using W = __m256i;
  static constexpr int group_blocks = 2, max_pixels = 6;
  static constexpr int pixels(int) { return 6; }
  static W load_w(const int8_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static A broadcast(const uint8_t* p) { return _mm256_set1_epi32(word(p)); }
  static A broadcast_value(int32_t v) { return _mm256_set1_epi32(v); }
  static W w_value(int32_t v) { return _mm256_set1_epi32(v); }
};

#ifdef __AVXVNNI__
struct Avx2Vnni : Avx2ByteOperands {
  static constexpr bool products_first = false;
  static Acc dot(Acc acc, A a, W w) { return _mm256_dpbusd_avx_epi32(acc, a, w); }
};
#endif

// 8 accumulators (4 pixels x 2 blocks), the weights of 2 blocks widened (4 registers), a widened broadcast (2).
struct Avx2Int8 : Avx2Int8Base {
  struct A {
    __m256i even, odd;  // u8 bytes 0, 2 and 1, 3 of each word, as 16-bit
  };
  struct W {
    __m256i even, odd;  // s8 bytes, sign-extended to 16 bits
  };
  static constexpr int group_blocks = 2, max_pixels = 4;
  static constexpr int pixels(int) { return 4; }
  static W widen(__m256i w) { return {_mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), _mm256_srai_epi16(w, 8)}; }
  static A widen_u8(__m256i a) { return {_mm256_and_si256(a, _mm256_set1_epi16(0xFF)), _mm256_srli_epi16(a, 8)}; }
  static W load_w(const int8_t* p) { return widen(_mm256_load_si256(reinterpret_cast<const __m256i*>(p))); }
  static A broadcast(const uint8_t* p) { return widen_u8(_mm256_set1_epi32(word(p))); }
  static A broadcast_value(int32_t v) { return widen_u8(_mm256_set1_epi32(v)); }
  static W w_value(int32_t v) { return widen(_mm256_set1_epi32(v)); }
  static Acc dot(Acc acc, const A& a, const W& w) {
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(a.even, w.even), _mm256_madd_epi16(a.odd, w.odd)));
  }
};

// The product takes a 13th register; the ones come from memory.
struct Avx2Int8Pairs : Avx2ByteOperands {
  static Acc dot(Acc acc, A a, W w) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, w), _mm256_set1_epi16(1)));
  }
};

// Two quads a step, for convs whose weights fit PackedConv::quad_pairs_fit_16: the two vpmaddubsw results add in
// 16 bits without wrapping, so one vpmaddwd by ones widens both, 3 multiplies for 8 bytes instead of 4 (an odd
// last quad takes the pairs path's dot). 4 pixels keep the 8 accumulators, 4 weight vectors and 2 broadcasts in
// registers.
struct Avx2Int8QuadPairs : Avx2Int8Pairs {
  static constexpr int max_pixels = 4;  // 6 measured 5 % slower on 1.1's final conv
  static constexpr int pixels(int) { return 4; }
  static Acc dot2(Acc acc, A a0, W w0, A a1, W w1) {
    const __m256i sum16 = _mm256_add_epi16(_mm256_maddubs_epi16(a0, w0), _mm256_maddubs_epi16(a1, w1));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(sum16, _mm256_set1_epi16(1)));
  }
};

}  // namespace squeezenet::x86::int8
