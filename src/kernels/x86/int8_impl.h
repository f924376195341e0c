#pragma once
// The int8 direct conv of every family, on the family's traits T (int8_isa_*.h): a register tile of P output
// pixels x NB blocks of T::lanes output channels, each step one 4-byte broadcast of a pixel's four input channels
// and one dot product per block (vpdpbusd, or its exact AVX2 emulation). Bias, ReLU and requantisation happen
// on the tile's accumulators before they leave the registers. Include only from *_avx2.cpp / *_avx512.cpp files.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <utility>

#include "kernels/reference/int8.h"
#include "kernels/x86/int8_table.h"
#include "squeezenet/model.h"

namespace squeezenet::x86::int8 {

// The quad loop unrolled 4 times took 8 % off the AVX2 family's 1.1 on an AMD EPYC Zen 3 (2 x 6 dot products a quad
// leave the loop's own work in sight); the VNNI families keep the loop they were measured with.
#if defined(__AVXVNNI__) || defined(__AVX512VNNI__)
#define SQUEEZENET_INT8_UNROLL_QUADS
#else
#define SQUEEZENET_INT8_UNROLL_QUADS _Pragma("GCC unroll 4")
#endif

// One block of exact int32 sums through the epilogue into the output, whichever kind it is.
template <class T>
void store_block(const ConvIO& io, int64_t at, typename T::Acc v, typename T::F m, typename T::F b, int n) {
  switch (io.output) {
    case ConvIO::Output::u8: T::store_u8(static_cast<uint8_t*>(io.out) + at, T::requantize(v, m, b), n); break;
    case ConvIO::Output::f32: T::store_f32(static_cast<float*>(io.out) + at, T::dequantize_relu(v, m, b), n); break;
    case ConvIO::Output::i32: T::store_i32(static_cast<int32_t*>(io.out) + at, v, n); break;
  }
}

template <class T, int P, int NB>
void conv_tile(const PackedConv& pc, const ConvIO& io, const int8_t* w, int block0, const int64_t* taps, int ntaps,
               const uint8_t* const* src, const int64_t* dst) {
  typename T::Acc acc[P][NB];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) acc[p][j] = T::zero();
  const int quads = pc.quads;
  for (int t = 0; t < ntaps; ++t) {
    const uint8_t* s[P];
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) s[p] = src[p] + taps[t];
    int q = 0;
    if constexpr (requires { &T::dot2; }) {
      constexpr int step = NB * T::lanes * 4;
      for (; q + 1 < quads; q += 2, w += 2 * step) {
        typename T::W w0[NB], w1[NB];
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) {
          w0[j] = T::load_w(w + j * T::lanes * 4);
          w1[j] = T::load_w(w + step + j * T::lanes * 4);
        }
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
          const typename T::A a0 = T::broadcast(s[p] + 4 * q), a1 = T::broadcast(s[p] + 4 * q + 4);
#pragma GCC unroll 4
          for (int j = 0; j < NB; ++j) acc[p][j] = T::dot2(acc[p][j], a0, w0[j], a1, w1[j]);
        }
      }
    }
    SQUEEZENET_INT8_UNROLL_QUADS
    for (; q < quads; ++q, w += NB * T::lanes * 4) {
      typename T::W wv[NB];
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) wv[j] = T::load_w(w + j * T::lanes * 4);
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        const typename T::A a = T::broadcast(s[p] + 4 * q);
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) acc[p][j] = T::dot(acc[p][j], a, wv[j]);
      }
    }
  }
  if constexpr (NB == 2 && T::pair_stores) {
    // Two whole blocks of u8 leave in one store.
    const int c = block0 * T::lanes;
    if (io.output == ConvIO::Output::u8 && c + 2 * T::lanes <= pc.out_channels) {
      const typename T::Acc corr[2] = {T::load_i32(pc.correction.data() + c),
                                       T::load_i32(pc.correction.data() + c + T::lanes)};
      const typename T::F m[2] = {T::load_f32(pc.multiplier.data() + c), T::load_f32(pc.multiplier.data() + c + T::lanes)};
      const typename T::F b[2] = {T::load_f32(pc.offset.data() + c), T::load_f32(pc.offset.data() + c + T::lanes)};
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p)
        T::store_u8_pair(static_cast<uint8_t*>(io.out) + dst[p] + c, T::requantize(T::sub(acc[p][0], corr[0]), m[0], b[0]),
                         T::requantize(T::sub(acc[p][1], corr[1]), m[1], b[1]));
      return;
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) {
    const int c = (block0 + j) * T::lanes, n = std::min(T::lanes, pc.out_channels - c);
    const typename T::Acc corr = T::load_i32(pc.correction.data() + c);
    const typename T::F m = T::load_f32(pc.multiplier.data() + c), b = T::load_f32(pc.offset.data() + c);
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) store_block<T>(io, dst[p] + c, T::sub(acc[p][j], corr), m, b, n);
  }
}

template <class T>
using TileFn = void (*)(const PackedConv&, const ConvIO&, const int8_t*, int, const int64_t*, int, const uint8_t* const*,
                        const int64_t*);

// tiles[(P - 1) * group_blocks + NB - 1] = conv_tile<T, P, NB>, P up to T::max_pixels.
template <class T, std::size_t... I>
constexpr std::array<TileFn<T>, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {&conv_tile<T, static_cast<int>(I) / T::group_blocks + 1, static_cast<int>(I) % T::group_blocks + 1>...};
}

template <class T>
void conv(const PackedConv& pc, const ConvIO& io, int64_t first, int64_t last) {
  static constexpr auto tiles = make_tiles<T>(std::make_index_sequence<T::max_pixels * T::group_blocks>{});
  int64_t taps[49];
  const int K = pc.kernel, ntaps = K * K;
  for (int ky = 0; ky < K; ++ky)
    for (int kx = 0; kx < K; ++kx) taps[ky * K + kx] = ky * io.in_row + kx * static_cast<int64_t>(io.in_pixel);
  const int64_t group_bytes = static_cast<int64_t>(ntaps) * pc.quads * 4 * T::lanes;
  // A run of tiles shares each group's weights while they are in L1.
  constexpr int64_t kRun = 8 * T::max_pixels;
  for (int64_t r0 = first; r0 < last; r0 += kRun) {
    const int64_t r1 = std::min(last, r0 + kRun);
    for (int b0 = 0; b0 < pc.blocks; b0 += T::group_blocks) {
      const int nb = std::min(T::group_blocks, pc.blocks - b0);
      const int8_t* w = pc.weight.data() + b0 * group_bytes;
      const int pixels = T::pixels(nb);
      for (int64_t i0 = r0; i0 < r1; i0 += pixels) {
        const int np = static_cast<int>(std::min<int64_t>(pixels, r1 - i0));
        const uint8_t* src[T::max_pixels];
        int64_t dst[T::max_pixels];
        for (int p = 0; p < np; ++p) {
          const int64_t y = (i0 + p) / io.out_width, x = (i0 + p) % io.out_width;
          src[p] = io.in + y * pc.stride * io.in_row + x * pc.stride * io.in_pixel;
          dst[p] = y * io.out_row + x * io.out_pixel;
        }
        tiles[static_cast<std::size_t>((np - 1) * T::group_blocks + nb - 1)](pc, io, w, b0, taps, ntaps, src, dst);
      }
    }
  }
}

// NHWC u8 3x3 stride-2 ceil-mode max-pool, output rows [row_begin, row_end). Separable as the fp32 pool: the max
// down each input column's 3 rows, then across 3 columns, the window's last column carried over as the next
// window's first. max is idempotent, so a window cut short by the map's edge re-reads its last row or column
// instead of branching. Plain loops over channels that the family's flags vectorize (the generic build's 16-byte
// vectors made the first pool take as long as a Fire's squeeze).
template <class T>
void max_pool(const uint8_t* in, int h, int w, int c, uint8_t* out, int row_begin, int row_end) {
  const int ow_count = static_cast<int>(pool_output_size(w, 3, 2));
  const int64_t row = int64_t{w} * c;
  constexpr int kChunk = 512;  // channels carried at a time
  alignas(64) uint8_t left[kChunk];
  for (int oh = row_begin; oh < row_end; ++oh) {
    const int h0 = 2 * oh;
    const int64_t r1 = std::min(h0 + 1, h - 1) - h0, r2 = std::min(h0 + 2, h - 1) - h0;
    const uint8_t* top = in + h0 * row;
    uint8_t* o = out + int64_t{oh} * ow_count * c;
    for (int c0 = 0; c0 < c; c0 += kChunk) {
      const int n = std::min(kChunk, c - c0);
      const uint8_t* first = top + c0;
      for (int k = 0; k < n; ++k) left[k] = std::max({first[k], first[r1 * row + k], first[r2 * row + k]});
      for (int ow = 0; ow < ow_count; ++ow) {
        const uint8_t* a = top + int64_t{std::min(2 * ow + 1, w - 1)} * c + c0;
        const uint8_t* b = top + int64_t{std::min(2 * ow + 2, w - 1)} * c + c0;
        uint8_t* d = o + int64_t{ow} * c + c0;
        for (int k = 0; k < n; ++k) {
          const uint8_t ma = std::max({a[k], a[r1 * row + k], a[r2 * row + k]});
          const uint8_t mb = std::max({b[k], b[r1 * row + k], b[r2 * row + k]});
          d[k] = std::max({left[k], ma, mb});
          left[k] = mb;
        }
      }
    }
  }
}

// The image rule of squeezenet/quantize.h, T::lanes pixels at a time.
template <class T>
bool quantize_image(const float* image, int64_t plane, float inverse, uint8_t* out, int64_t first, int64_t last) {
  bool finite = true;
  int64_t i = first;
  for (; i + T::lanes <= last; i += T::lanes) {
    typename T::Acc pixel = T::set1_i32(128 << 24);
    for (int c = 0; c < 3; ++c) {
      const typename T::F x = T::load_f32(image + c * plane + i);
      finite = finite && T::all_finite(x);
      pixel = T::bit_or(pixel, T::shift_left(T::round_clamp_u8(T::fma(x, inverse, 128.0f)), 8 * c));
    }
    T::store_i32(reinterpret_cast<int32_t*>(out + 4 * i), pixel, T::lanes);
  }
  for (; i < last; ++i) {
    for (int c = 0; c < 3; ++c) {
      const float x = image[c * plane + i];
      finite = finite && x - x == 0.0f;
      out[4 * i + c] = ref::quantize_input(x, inverse);
    }
    out[4 * i + 3] = 128;
  }
  return finite;
}

// An empty asm that the compiler must assume changes v, so that a product of loop-invariant operands is not
// computed once outside the loop (vpdpbusd reads its accumulator; the AVX2 emulations multiply first, then add).
inline void opaque(__m256i& v) { asm volatile("" : "+x"(v)); }
#ifdef __AVX512F__
inline void opaque(__m512i& v) { asm volatile("" : "+v"(v)); }
#endif
template <class V>
auto opaque(V& v) -> decltype(v.even, void()) {
  opaque(v.even);
  opaque(v.odd);
}

// Independent dot-product chains (24 vpdpbusd: twice the latency x throughput of the unit on the cores we know).
template <class T>
double peak_gmacs(double seconds) {
  constexpr int chains = T::peak_chains;
  typename T::Acc acc[chains];
  for (int i = 0; i < chains; ++i) acc[i] = T::set1_i32(i);
  // Read through volatile so the compiler cannot fold the products; they cancel (1 - 1 + 1 - 1), the sums stay put.
  volatile int32_t ones = 0x01010101, signs = 0x01FF01FF;
  const typename T::A a = T::broadcast_value(ones);
  const typename T::W w = T::w_value(signs);
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  int64_t done = 0;
  double elapsed = 0.0;
  do {
    for (int64_t r = 0; r < (1 << 14); ++r) {
#pragma GCC unroll 24
      for (int i = 0; i < chains; ++i) {
        typename T::W wi = w;
        if constexpr (T::products_first) opaque(wi);
        acc[i] = T::dot(acc[i], a, wi);
      }
    }
    done += 1 << 14;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < seconds);
  int32_t sink[T::lanes];
  typename T::Acc sum = acc[0];
  for (int i = 1; i < chains; ++i) sum = T::add(sum, acc[i]);
  T::store_i32(sink, sum, T::lanes);
  volatile int32_t keep = sink[0];
  (void)keep;
  return static_cast<double>(done) * chains * T::lanes * 4 / elapsed / 1e9;
}

}  // namespace squeezenet::x86::int8
