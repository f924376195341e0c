// Winograd F(2x2, 3x3) and F(4x4, 3x3) (Lavin & Gray 2016): per tile of m x m outputs, the (m+2)^2 input patch
// and the 3x3 kernel go to a transformed domain where the conv is (m+2)^2 independent channel GEMMs, run on the
// same register tile as the direct conv. Blocks of tiles keep the transformed inputs and products in cache.
#include <immintrin.h>

#include <algorithm>

#include "kernels/x86/kernels_avx2.h"
#include "kernels/x86/microkernel_avx2.h"
#include "squeezenet/error.h"

namespace squeezenet::avx2 {

namespace {

// One-dimensional transforms of n values; the 2-D ones apply them down the columns, then along the rows.
// Written out rather than as matrix products so that the many zeros and ones cost nothing. V is __m256 or,
// for channel tails, float.
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

// Tiles per block: the block's transformed input, [n*n][tiles][C], and products, [tiles][n*n][16], stay in L2.
constexpr int kBlockTiles = 24;

// B^T d B of the n x n patch load(r, s), handed to store(r * n + s, value).
template <class W, class V, class Load, class Store>
inline void input_2d(Load load, Store store) {
  constexpr int n = W::n;
  V tmp[n][n];
#pragma GCC unroll 8
  for (int s = 0; s < n; ++s) {
    V col[n], x[n];
#pragma GCC unroll 8
    for (int r = 0; r < n; ++r) col[r] = load(r, s);
    W::input(col, x);
#pragma GCC unroll 8
    for (int r = 0; r < n; ++r) tmp[r][s] = x[r];
  }
#pragma GCC unroll 8
  for (int r = 0; r < n; ++r) {
    V x[n];
    W::input(tmp[r], x);
#pragma GCC unroll 8
    for (int s = 0; s < n; ++s) store(r * n + s, x[s]);
  }
}

// A^T p A of the n x n products load(r * n + s), handed to store(i, j, value) for the m x m outputs.
template <class W, class V, class Load, class Store>
inline void output_2d(Load load, Store store) {
  constexpr int n = W::n, m = W::m;
  V tmp[m][n];
#pragma GCC unroll 8
  for (int s = 0; s < n; ++s) {
    V col[n], y[m];
#pragma GCC unroll 8
    for (int r = 0; r < n; ++r) col[r] = load(r * n + s);
    W::output(col, y);
#pragma GCC unroll 8
    for (int i = 0; i < m; ++i) tmp[i][s] = y[i];
  }
#pragma GCC unroll 8
  for (int i = 0; i < m; ++i) {
    V y[m];
    W::output(tmp[i], y);
#pragma GCC unroll 8
    for (int j = 0; j < m; ++j) store(i, j, y[j]);
  }
}

template <class W>
void input_tile(const float* base, int64_t in_pixel, int64_t in_row, int channels, float* v, int64_t plane) {
  int c = 0;
  for (; c + 8 <= channels; c += 8)
    input_2d<W, __m256>([&](int r, int s) { return _mm256_loadu_ps(base + r * in_row + s * in_pixel + c); },
                        [&](int x, __m256 value) { _mm256_storeu_ps(v + x * plane + c, value); });
  for (; c < channels; ++c)
    input_2d<W, float>([&](int r, int s) { return base[r * in_row + s * in_pixel + c]; },
                       [&](int x, float value) { v[x * plane + c] = value; });
}

template <class W>
void run(const PackedWinograd& p, const ConvIO& io, int64_t tile_begin, int64_t tile_end, float* scratch) {
  constexpr int m = W::m, n = W::n, nn = n * n;
  const int C = p.in_channels;
  const int64_t tiles_w = (io.out_w + m - 1) / m;
  float* vb = scratch;                                  // [nn][kBlockTiles][C]
  float* mb = scratch + int64_t{nn} * kBlockTiles * C;  // [kBlockTiles][nn][16]: a tile's products adjacent
  const detail::Reduction r{1, 0, C};
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t b0 = tile_begin; b0 < tile_end; b0 += kBlockTiles) {
    const int count = static_cast<int>(std::min<int64_t>(kBlockTiles, tile_end - b0));
    for (int t = 0; t < count; ++t) {
      const int64_t th = (b0 + t) / tiles_w, tw = (b0 + t) % tiles_w;
      input_tile<W>(io.in + th * m * io.in_row + tw * m * io.in_pixel, io.in_pixel, io.in_row, C, vb + int64_t{t} * C,
                    int64_t{kBlockTiles} * C);
    }
    for (int b = 0; b < p.blocks(); ++b) {
      for (int x = 0; x < nn; ++x) {
        const float* rows[kBlockTiles];
        float* out[kBlockTiles];
        for (int t = 0; t < count; ++t) {
          rows[t] = vb + (int64_t{x} * kBlockTiles + t) * C;
          out[t] = mb + (int64_t{t} * nn + x) * kTileChannels;
        }
        const float* panel = p.panels.data() + (int64_t{b} * nn + x) * C * kTileChannels;
        // Column 1 of A^T is all ones, for both tiles: a bias added at position (1, 1) reaches every output.
        const float* bias = p.bias.data() + b * kTileChannels;
        const __m256 init0 = x == n + 1 ? _mm256_load_ps(bias) : zero;
        const __m256 init1 = x == n + 1 ? _mm256_load_ps(bias + 8) : zero;
        detail::for_each_tile(count, [&](auto mm, int i) {
          detail::store(detail::gemm_tile<decltype(mm)::value>(rows + i, panel, init0, init1, r), out + i, 0,
                        kTileChannels);
        });
      }
      const int valid = std::min(kTileChannels, p.out_channels - b * kTileChannels);
      for (int t = 0; t < count; ++t) {
        const int64_t th = (b0 + t) / tiles_w, tw = (b0 + t) % tiles_w;
        const int rows_valid = static_cast<int>(std::min<int64_t>(m, io.out_h - th * m));
        const int cols_valid = static_cast<int>(std::min<int64_t>(m, io.out_w - tw * m));
        for (int half = 0; half < 2 && half * 8 < valid; ++half) {
          const float* products = mb + int64_t{t} * nn * kTileChannels + half * 8;
          float* o = io.out + th * m * io.out_row + tw * m * io.out_pixel + b * kTileChannels + half * 8;
          const int lanes = std::min(8, valid - half * 8);
          const __m256i mask = detail::lanes_below(lanes);
          output_2d<W, __m256>([&](int x) { return _mm256_loadu_ps(products + x * kTileChannels); },
                               [&](int i, int j, __m256 y) {
                                 if (i >= rows_valid || j >= cols_valid) return;
                                 const __m256 v = _mm256_max_ps(y, zero);
                                 float* at = o + i * io.out_row + j * io.out_pixel;
                                 if (lanes == 8)
                                   _mm256_storeu_ps(at, v);
                                 else
                                   _mm256_maskstore_ps(at, mask, v);
                               });
        }
      }
    }
  }
}

template <class W>
PackedWinograd pack(const Tensor& weight, const Tensor& bias) {
  constexpr int n = W::n, nn = n * n;
  PackedWinograd p;
  p.tile = W::m;
  p.out_channels = static_cast<int>(weight.dim(0));
  p.in_channels = static_cast<int>(weight.dim(1));
  const int C = p.in_channels;
  p.panels.assign(static_cast<std::size_t>(int64_t{p.blocks()} * nn * C * kTileChannels), 0.0f);
  p.bias.assign(static_cast<std::size_t>(p.blocks() * kTileChannels), 0.0f);
  for (int o = 0; o < p.out_channels; ++o) {
    p.bias[static_cast<std::size_t>(o)] = bias[o];
    for (int c = 0; c < C; ++c) {
      const float* k = weight.data() + (int64_t{o} * C + c) * 9;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          double u = 0.0;  // (G k G^T)[i][j]
          for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) u += W::g[i][a] * k[a * 3 + b] * W::g[j][b];
          const int64_t x = i * n + j;
          p.panels[static_cast<std::size_t>(((int64_t{o / kTileChannels} * nn + x) * C + c) * kTileChannels +
                                            o % kTileChannels)] = static_cast<float>(u);
        }
    }
  }
  return p;
}

}  // namespace

PackedWinograd pack_winograd(const Tensor& weight, const Tensor& bias, int tile) {
  if (weight.ndim() != 4 || weight.dim(2) != 3 || weight.dim(3) != 3 || bias.ndim() != 1 ||
      bias.dim(0) != weight.dim(0))
    throw Error("pack_winograd: weight " + shape_str(weight.shape()) + " and bias " + shape_str(bias.shape()) +
                " are not a 3x3 conv's");
  if (tile == 2) return pack<F2>(weight, bias);
  if (tile == 4) return pack<F4>(weight, bias);
  throw Error("pack_winograd: tile must be 2 or 4, got " + std::to_string(tile));
}

int64_t winograd_tiles(int tile, int out_h, int out_w) {
  return int64_t{(out_h + tile - 1) / tile} * ((out_w + tile - 1) / tile);
}

int64_t winograd_scratch_floats(const PackedWinograd& p) {
  const int64_t nn = int64_t{p.tile + 2} * (p.tile + 2);
  return nn * kBlockTiles * (p.in_channels + kTileChannels);
}

void winograd_relu(const PackedWinograd& p, const ConvIO& io, int64_t tile_begin, int64_t tile_end, float* scratch) {
  if (p.tile == 2)
    run<F2>(p, io, tile_begin, tile_end, scratch);
  else
    run<F4>(p, io, tile_begin, tile_end, scratch);
}

}  // namespace squeezenet::avx2
