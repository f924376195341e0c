#pragma once
// Winograd F(2x2, 3x3) and F(4x4, 3x3) (Lavin & Gray 2016): per tile of m x m outputs, the (m+2)^2 input patch
// and the 3x3 kernel go to a transformed domain where the conv is (m+2)^2 independent channel GEMMs, run on the
// same register tile as the direct conv. Blocks of tiles keep the transformed inputs and products in cache.
// Included by winograd_avx2.cpp, kernels_avx512.cpp, and for bf16 by winograd_bf16_impl.h and the reference
// (winograd_reference_bf16.cpp); the anonymous namespace gives each its own copy.
#include <algorithm>

#include "kernels/x86/kernels_avx2.h"
#include "kernels/x86/microkernel.h"

namespace squeezenet::x86 {
namespace {

using avx2::ConvIO;
using avx2::kTileChannels;
using avx2::PackedWinograd;

// One-dimensional transforms of n values; the 2-D ones apply them down the columns, then along the rows.
// Written out rather than as matrix products so that the many zeros and ones cost nothing. V is a vector
// type or, for channel tails, float.
struct F2 {
  static constexpr int m = 2, n = 4;
  static constexpr double g[n][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  template <class V>
  static void input(const V (&d)[n], V (&x)[n]) {  // B^T d
    x[0] = d[0] - d[2];
    x[1] = d[1] + d[2];
    x[2] = d[2] - d[1];
    x[3] = d[1] - d[3];
  }
  template <class V>
  static void output(const V (&p)[n], V (&y)[m]) {  // A^T p
    y[0] = p[0] + p[1] + p[2];
    y[1] = p[1] - p[2] - p[3];
  }
};

struct F4 {
  static constexpr int m = 4, n = 6;
  static constexpr double g[n][3] = {{1.0 / 4, 0, 0},
                                     {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                     {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                     {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                     {0, 0, 1}};
  template <class V>
  static void input(const V (&d)[n], V (&x)[n]) {
    const V a = d[4] - d[2] * 4.0f, b = d[3] - d[1] * 4.0f, c = d[4] - d[2], e = (d[3] - d[1]) * 2.0f;
    x[0] = d[0] * 4.0f - d[2] * 5.0f + d[4];
    x[1] = a + b;
    x[2] = a - b;
    x[3] = c + e;
    x[4] = c - e;
    x[5] = d[1] * 4.0f - d[3] * 5.0f + d[5];
  }
  template <class V>
  static void output(const V (&p)[n], V (&y)[m]) {
    const V a = p[1] + p[2], b = p[1] - p[2], c = p[3] + p[4], e = p[3] - p[4];
    y[0] = p[0] + a + c;
    y[1] = b + e * 2.0f;
    y[2] = a + c * 4.0f;
    y[3] = b + e * 8.0f + p[5];
  }
};

// The 2-D transform of an n x n patch by a 1-D one, t(in[n], out[m]): down the columns, then along the rows.
// Reads load(r, s) and hands the m x m result to store(i, j, value). B^T d B and A^T p A are both this.
template <class V, int n, int m, class Transform, class Load, class Store>
inline void transform_2d(Transform t, Load load, Store store) {
  V tmp[m][n];
#pragma GCC unroll 8
  for (int s = 0; s < n; ++s) {
    V col[n], y[m];
#pragma GCC unroll 8
    for (int r = 0; r < n; ++r) col[r] = load(r, s);
    t(col, y);
#pragma GCC unroll 8
    for (int i = 0; i < m; ++i) tmp[i][s] = y[i];
  }
#pragma GCC unroll 8
  for (int i = 0; i < m; ++i) {
    V y[m];
    t(tmp[i], y);
#pragma GCC unroll 8
    for (int j = 0; j < m; ++j) store(i, j, y[j]);
  }
}

// B^T d B of the n x n patch load(r, s), handed to store(r * n + s, value).
template <class W, class V, class Load, class Store>
inline void input_2d(Load load, Store store) {
  constexpr int n = W::n;
  transform_2d<V, n, n>([](const V(&d)[n], V(&x)[n]) { W::input(d, x); }, load,
                        [&](int r, int s, V value) { store(r * n + s, value); });
}

// A^T p A of the n x n products load(r * n + s), handed to store(i, j, value) for the m x m outputs.
template <class W, class V, class Load, class Store>
inline void output_2d(Load load, Store store) {
  constexpr int n = W::n;
  transform_2d<V, n, W::m>([](const V(&p)[n], V(&y)[W::m]) { W::output(p, y); },
                           [&](int r, int s) { return load(r * n + s); }, store);
}

template <class T, class W>
void input_tile(const float* base, int64_t in_pixel, int64_t in_row, int channels, float* v, int64_t plane) {
  using V = typename T::Vec;
  int c = 0;
  for (; c + T::lanes <= channels; c += T::lanes)
    input_2d<W, V>([&](int r, int s) { return T::load(base + r * in_row + s * in_pixel + c); },
                   [&](int x, V value) { T::store(v + x * plane + c, value); });
  for (; c < channels; ++c)
    input_2d<W, float>([&](int r, int s) { return base[r * in_row + s * in_pixel + c]; },
                       [&](int x, float value) { v[x * plane + c] = value; });
}

// relu(A^T p A) of the `count` tiles from tile b0 on, from their products [tile][n*n][width] for the channel
// block b on: the outputs inside the map and below out_channels only, rounded to bf16 where T and io ask for it.
template <class T, class W>
void output_tiles(const float* mb, int64_t b0, int count, int width, int b, int out_channels, const ConvIO& io) {
  using V = typename T::Vec;
  constexpr int m = W::m, nn = W::n * W::n;
  const int64_t tiles_w = (io.out_w + m - 1) / m;
  const int valid = std::min(width, out_channels - b * kTileChannels);
  for (int t = 0; t < count; ++t) {
    const int64_t th = (b0 + t) / tiles_w, tw = (b0 + t) % tiles_w;
    const int rows_valid = static_cast<int>(std::min<int64_t>(m, io.out_h - th * m));
    const int cols_valid = static_cast<int>(std::min<int64_t>(m, io.out_w - tw * m));
    for (int c = 0; c < valid; c += T::lanes) {
      const float* products = mb + int64_t{t} * nn * width + c;
      const int64_t o = th * m * io.out_row + tw * m * io.out_pixel + b * kTileChannels + c;
      const int lanes = std::min(T::lanes, valid - c);
      output_2d<W, V>([&](int x) { return T::load(products + x * width); },
                      [&](int i, int j, V y) {
                        if (i >= rows_valid || j >= cols_valid) return;
                        const V v = T::max(y, T::zero());
                        const int64_t offset = o + i * io.out_row + j * io.out_pixel;
                        if constexpr (requires { T::bf16_activations; })
                          if (io.out_bf16) return T::store_bf16(io.out_bf16 + offset, v, lanes);
                        float* at = io.out + offset;
                        if (lanes == T::lanes)
                          T::store(at, v);
                        else
                          T::store_first(at, v, lanes);
                      });
    }
  }
}

// The tile GEMMs in fp32: transformed inputs stored as computed, G k G^T panels as packed.
template <class T>
struct Fp32Gemm {
  using In = float;
  static int row(int channels) { return channels; }  // stored values per tile and position
  template <class W>
  static void input(const float* base, int64_t in_pixel, int64_t in_row, int channels, float* v, int64_t plane) {
    input_tile<T, W>(base, in_pixel, in_row, channels, v, plane);
  }
  static int64_t panel_stride(const PackedWinograd& p) {
    return int64_t{p.positions()} * p.in_channels * kTileChannels;
  }
  static const float* panel(const PackedWinograd& p, int b, int x) {
    return p.panels.data() + (int64_t{b} * p.positions() + x) * p.in_channels * kTileChannels;
  }
  template <int M, int NB>
  static detail::Acc<T, M, NB> tile(const float* const* rows, const float* panel, int64_t panel_stride,
                                    const float* bias, int channels) {
    return detail::gemm_tile<T, M, NB>(rows, panel, panel_stride, bias, detail::Reduction{1, 0, channels});
  }
};

// G: how transformed inputs are stored and multiplied (Fp32Gemm, or the bf16 one of winograd_bf16_impl.h).
template <class T, class W, class G = Fp32Gemm<T>>
void winograd_relu(const PackedWinograd& p, const ConvIO& io, int64_t tile_begin, int64_t tile_end, float* scratch) {
  using In = typename G::In;
  constexpr int m = W::m, n = W::n, nn = n * n;
  const int C = p.in_channels, row = G::row(C);
  const int64_t tiles_w = (io.out_w + m - 1) / m, panel_stride = G::panel_stride(p);
  In* vb = reinterpret_cast<In*>(scratch);                           // [nn][block tiles][row]
  float* mb = scratch + int64_t{nn} * avx2::kWinogradBlockTiles * C;  // [block tiles][nn][NB * 16]
  // Blocks of 24 tiles (whole register tiles of 6, 8 or 12 rows), the last taking up to 6 more: 49 tiles go as
  // 24 + 25, not 24 + 24 + 1, whose last block would read all the weights again for one tile.
  for (int64_t b0 = tile_begin, count = 0; b0 < tile_end; b0 += count) {
    count = tile_end - b0 <= avx2::kWinogradBlockTiles ? tile_end - b0 : avx2::kWinogradBlockStep;
    for (int t = 0; t < count; ++t) {
      const int64_t th = (b0 + t) / tiles_w, tw = (b0 + t) % tiles_w;
      G::template input<W>(io.in + th * m * io.in_row + tw * m * io.in_pixel, io.in_pixel, io.in_row, C,
                           vb + int64_t{t} * row, int64_t{avx2::kWinogradBlockTiles} * row);
    }
    detail::for_each_block_group<T, true>(0, p.blocks(), [&](auto nb, int b) {
      constexpr int width = decltype(nb)::value * kTileChannels;  // products per tile and position
      for (int x = 0; x < nn; ++x) {
        const In* rows[avx2::kWinogradBlockTiles];
        float* out[avx2::kWinogradBlockTiles];
        for (int t = 0; t < count; ++t) {
          rows[t] = vb + (int64_t{x} * avx2::kWinogradBlockTiles + t) * row;
          out[t] = mb + (int64_t{t} * nn + x) * width;
        }
        // Column 1 of A^T is all ones, for both tiles: a bias added at position (1, 1) reaches every output.
        const float* bias = x == n + 1 ? p.bias.data() + b * kTileChannels : nullptr;
        detail::for_each_tile<T, decltype(nb)::value>(count, [&](auto mm, int i) {
          detail::store(G::template tile<decltype(mm)::value, decltype(nb)::value>(rows + i, G::panel(p, b, x),
                                                                                  panel_stride, bias, C),
                        out + i, 0, width);
        });
      }
      output_tiles<T, W>(mb, b0, static_cast<int>(count), width, b, p.out_channels, io);
    });
  }
}

}  // namespace
}  // namespace squeezenet::x86
