// int8 Winograd F(2x2, 3x3) on AVX2 (int8_winograd.h). Per row of 2 x 2 output tiles: the row's input transform
// to s16, then per group of 16 output channels the 16 position GEMMs (tiles x channel pairs x 16 outputs on
// vpmaddwd, int32 sums), the output transform, and the family's epilogue on the exact sums.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "kernels/x86/int8_impl.h"
#include "kernels/x86/int8_isa_avx2.h"
#include "kernels/x86/int8_winograd.h"

namespace squeezenet::x86::int8 {
namespace {

using T = Avx2Int8Base;
constexpr int kWidth = 16;  // output channels per group: 2 blocks of 8
constexpr int kTiles = 6;   // tiles per register tile: 12 accumulators, 2 weight vectors, a broadcast

// M[t][16] = sum over channel pairs of V[t][pair] . U[pair][16], for P tiles V[t] = v + t * v_tile.
template <int P>
void gemm(const int16_t* v, int64_t v_tile, const int16_t* u, int pairs, int32_t* m) {
  __m256i acc[P][2];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) acc[p][0] = acc[p][1] = _mm256_setzero_si256();
#pragma GCC unroll 4
  for (int pr = 0; pr < pairs; ++pr, u += 2 * kWidth) {
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(u));
    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(u + kWidth));
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) {
      int32_t pair;
      std::memcpy(&pair, v + p * v_tile + 2 * pr, 4);
      const __m256i a = _mm256_set1_epi32(pair);
      acc[p][0] = _mm256_add_epi32(acc[p][0], _mm256_madd_epi16(a, w0));
      acc[p][1] = _mm256_add_epi32(acc[p][1], _mm256_madd_epi16(a, w1));
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(m + p * kWidth), acc[p][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(m + p * kWidth + 8), acc[p][1]);
  }
}

using GemmFn = void (*)(const int16_t*, int64_t, const int16_t*, int, int32_t*);
template <std::size_t... I>
constexpr std::array<GemmFn, sizeof...(I)> make_gemms(std::index_sequence<I...>) {
  return {&gemm<static_cast<int>(I) + 1>...};
}
constexpr auto kGemms = make_gemms(std::make_index_sequence<kTiles>{});

// 16 channels [c0, c0 + n) of a pixel as s16, zeros past n or off the frame (p null).
__m256i load_channels(const uint8_t* p, int c0, int n) {
  if (!p) return _mm256_setzero_si256();
  if (n == 16) return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + c0)));
  alignas(16) uint8_t part[16] = {};
  std::memcpy(part, p + c0, static_cast<std::size_t>(n));
  return _mm256_cvtepu8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(part)));
}

// V[position][tile][cq] = B^T d B of tile row ty's tiles, d the 4 x 4 input patch from frame row 2 ty, column 2 tx
// (the frame holds rows and columns 0 .. h + 1 and w + 1; past them, zeros).
void transform_input(const ConvIO& io, int C, int cq, int64_t ty, int tw, int16_t* v) {
  const int64_t frame_h = io.out_height + 2, frame_w = io.out_width + 2;
  for (int tx = 0; tx < tw; ++tx) {
    const uint8_t* px[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const int64_t r = 2 * ty + i, c = 2 * tx + j;
        px[i][j] = r < frame_h && c < frame_w ? io.in + r * io.in_row + c * io.in_pixel : nullptr;
      }
    for (int c0 = 0; c0 < C; c0 += 16) {
      const int n = std::min(16, C - c0);
      __m256i t[4][4];
      for (int j = 0; j < 4; ++j) {
        const __m256i d0 = load_channels(px[0][j], c0, n), d1 = load_channels(px[1][j], c0, n);
        const __m256i d2 = load_channels(px[2][j], c0, n), d3 = load_channels(px[3][j], c0, n);
        t[0][j] = _mm256_sub_epi16(d0, d2);
        t[1][j] = _mm256_add_epi16(d1, d2);
        t[2][j] = _mm256_sub_epi16(d2, d1);
        t[3][j] = _mm256_sub_epi16(d1, d3);
      }
      for (int i = 0; i < 4; ++i) {
        const __m256i out[4] = {_mm256_sub_epi16(t[i][0], t[i][2]), _mm256_add_epi16(t[i][1], t[i][2]),
                                _mm256_sub_epi16(t[i][2], t[i][1]), _mm256_sub_epi16(t[i][1], t[i][3])};
        for (int j = 0; j < 4; ++j)
          _mm256_store_si256(reinterpret_cast<__m256i*>(v + ((4 * i + j) * static_cast<int64_t>(tw) + tx) * cq + c0),
                             out[j]);
      }
    }
  }
}

// Y = A^T M A / 4 for group g's 16 channels of tile row ty, through the epilogue into the output. The input's zero
// point is 0 (winograd_fits), so the sums need no correction.
void transform_output(const PackedConv& pc, const ConvIO& io, int64_t ty, int tw, int g, const int32_t* m) {
  const int c = g * kWidth, n = std::min(kWidth, pc.out_channels - c);
  // The epilogue's constants are padded to whole blocks only: a last group of one block has no second.
  const bool second = n > T::lanes;
  const T::F mul[2] = {T::load_f32(pc.multiplier.data() + c),
                       second ? T::load_f32(pc.multiplier.data() + c + T::lanes) : _mm256_setzero_ps()};
  const T::F off[2] = {T::load_f32(pc.offset.data() + c),
                       second ? T::load_f32(pc.offset.data() + c + T::lanes) : _mm256_setzero_ps()};
  for (int tx = 0; tx < tw; ++tx) {
    __m256i y[2][2][2];  // [row][column][block]
    for (int j = 0; j < 2; ++j) {
      __m256i mv[16];
      for (int k = 0; k < 16; ++k)
        mv[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(m + (k * static_cast<int64_t>(tw) + tx) * kWidth +
                                                                     j * T::lanes));
      __m256i s0[4], s1[4];
      for (int k = 0; k < 4; ++k) {
        s0[k] = _mm256_add_epi32(_mm256_add_epi32(mv[k], mv[4 + k]), mv[8 + k]);
        s1[k] = _mm256_sub_epi32(_mm256_sub_epi32(mv[4 + k], mv[8 + k]), mv[12 + k]);
      }
      // 4 x the sums, exactly: an arithmetic shift divides them.
      y[0][0][j] = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(s0[0], s0[1]), s0[2]), 2);
      y[0][1][j] = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_sub_epi32(s0[1], s0[2]), s0[3]), 2);
      y[1][0][j] = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(s1[0], s1[1]), s1[2]), 2);
      y[1][1][j] = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_sub_epi32(s1[1], s1[2]), s1[3]), 2);
    }
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        const int64_t oy = 2 * ty + a, ox = 2 * tx + b;
        if (oy >= io.out_height || ox >= io.out_width) continue;
        const int64_t at = oy * io.out_row + ox * io.out_pixel + c;
        if (io.output == ConvIO::Output::u8 && n == kWidth) {
          T::store_u8_pair(static_cast<uint8_t*>(io.out) + at, T::requantize(y[a][b][0], mul[0], off[0]),
                           T::requantize(y[a][b][1], mul[1], off[1]));
          continue;
        }
        for (int j = 0; j < 2 && j * T::lanes < n; ++j)
          store_block<T>(io, at + j * T::lanes, y[a][b][j], mul[j], off[j], std::min(T::lanes, n - j * T::lanes));
      }
  }
}

}  // namespace

void winograd3x3_avx2(const PackedConv& pc, const ConvIO& io, int64_t first_row, int64_t last_row) {
  const int C = pc.in_channels, tw = (io.out_width + 1) / 2, cq = (C + 15) / 16 * 16, pairs = (C + 1) / 2;
  const int groups = (pc.out_channels + kWidth - 1) / kWidth;
  const std::size_t v_bytes = std::size_t{32} * tw * cq, m_bytes = std::size_t{64} * tw * kWidth;
  uint8_t* scratch = winograd_scratch(v_bytes + m_bytes);
  auto* v = reinterpret_cast<int16_t*>(scratch);
  auto* m = reinterpret_cast<int32_t*>(scratch + v_bytes);
  for (int64_t ty = first_row; ty < last_row; ++ty) {
    transform_input(io, C, cq, ty, tw, v);
    for (int g = 0; g < groups; ++g) {
      const int16_t* u = pc.winograd.data() + static_cast<std::size_t>(g) * 16 * pairs * 2 * kWidth;
      for (int k = 0; k < 16; ++k) {
        const int16_t* vk = v + static_cast<int64_t>(k) * tw * cq;
        const int16_t* uk = u + static_cast<std::size_t>(k) * pairs * 2 * kWidth;
        int32_t* mk = m + static_cast<int64_t>(k) * tw * kWidth;
        int t = 0;
        for (; t + kTiles <= tw; t += kTiles) gemm<kTiles>(vk + t * cq, cq, uk, pairs, mk + t * kWidth);
        if (t < tw) kGemms[static_cast<std::size_t>(tw - t - 1)](vk + t * cq, cq, uk, pairs, mk + t * kWidth);
      }
      transform_output(pc, io, ty, tw, g, m);
    }
  }
}

}  // namespace squeezenet::x86::int8
