#pragma once
// The register tile every conv here is built on, written once over an ISA's vector operations (isa_avx2.h,
// isa_avx512.h): up to T::tile_rows(NB) rows (pixels, or Winograd tiles) times NB <= T::tile_blocks blocks of 16
// output channels, summed over a reduction that walks contiguous runs of input. Everything is a template on T,
// so each ISA's translation unit gets its own code and none leaks into another's through the linker.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/x86/kernels_avx2.h"

namespace squeezenet::x86::detail {

using avx2::kTileChannels;

// For each of `rows` runs (kernel rows, `row_stride` floats apart in the input), `run` consecutive input values
// per tile row against the panel's next `run` rows of 16 weights.
struct Reduction {
  int rows;
  int64_t row_stride;
  int run;
};

template <class T, int M, int NB>
struct Acc {
  static constexpr int per_row = NB * kTileChannels / T::lanes;
  typename T::Vec v[M][per_row];
};

// `run` steps of the panel (w, advanced past them) against M input rows, row j's value k at x(j, k).
template <class T, int M, int NB, class X>
inline void accumulate(Acc<T, M, NB>& a, const float*& w, int64_t panel_stride, int run, X x) {
  constexpr int Q = Acc<T, M, NB>::per_row, per_block = kTileChannels / T::lanes;
  for (int k = 0; k < run; ++k, w += kTileChannels) {
    typename T::Vec wv[Q];
#pragma GCC unroll 8
    for (int q = 0; q < Q; ++q) wv[q] = T::load(w + (q / per_block) * panel_stride + (q % per_block) * T::lanes);
#pragma GCC unroll 12
    for (int j = 0; j < M; ++j) {
      const typename T::Vec xv = T::broadcast(x(j, k));
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q) a.v[j][q] = T::fmadd(xv, wv[q], a.v[j][q]);
    }
  }
}

// M rows of input (in[j] under row j's first tap) against NB blocks' panels, `panel_stride` floats apart.
// `bias`: NB * 16 floats the accumulators start from, or nullptr for zeros.
template <class T, int M, int NB>
inline Acc<T, M, NB> gemm_tile(const float* const* in, const float* panel, int64_t panel_stride, const float* bias,
                               const Reduction& r) {
  using A = Acc<T, M, NB>;
  constexpr int Q = A::per_row;
  A a;
  typename T::Vec init[Q];
#pragma GCC unroll 8
  for (int q = 0; q < Q; ++q) init[q] = bias ? T::load(bias + q * T::lanes) : T::zero();
#pragma GCC unroll 12
  for (int j = 0; j < M; ++j)
#pragma GCC unroll 8
    for (int q = 0; q < Q; ++q) a.v[j][q] = init[q];
  const float* w = panel;
  // More row pointers than the general registers hold: the compiler parks them in vector registers, and moving
  // them back takes the FMA ports on every step. Copied into one buffer at fixed offsets, the rows are all
  // reached from the stack pointer; worth it where runs are long (1x1 convs), not for the stem's runs of 9-21.
  if constexpr (M > T::pointer_rows) {
    if (r.run >= 32) {
      constexpr int chunk = 64;
      alignas(64) float rows[M][chunk];
      for (int s = 0; s < r.rows; ++s)
        for (int k0 = 0; k0 < r.run; k0 += chunk) {
          const int n = std::min(chunk, r.run - k0);
#pragma GCC unroll 12
          for (int j = 0; j < M; ++j) T::copy(rows[j], in[j] + s * r.row_stride + k0, n);
          accumulate(a, w, panel_stride, n, [&](int j, int k) { return &rows[j][k]; });
        }
      return a;
    }
  }
  for (int s = 0; s < r.rows; ++s) {
    const float* p[M];
#pragma GCC unroll 12
    for (int j = 0; j < M; ++j) p[j] = in[j] + s * r.row_stride;
    accumulate(a, w, panel_stride, r.run, [p](int j, int k) { return p[j] + k; });
  }
  return a;
}

template <class T, int M, int NB>
inline void relu(Acc<T, M, NB>& a) {
  for (auto& row : a.v)
    for (auto& v : row) v = T::max(v, T::zero());
}

// Stores the first `valid` of the tile's NB * 16 channels of each row j at out[j] + offset.
template <class T, int M, int NB>
inline void store(const Acc<T, M, NB>& a, float* const* out, int64_t offset, int valid) {
  constexpr int Q = Acc<T, M, NB>::per_row;
  if (valid == NB * kTileChannels) {
#pragma GCC unroll 12
    for (int j = 0; j < M; ++j)
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q) T::store(out[j] + offset + q * T::lanes, a.v[j][q]);
    return;
  }
  for (int j = 0; j < M; ++j)
    for (int q = 0; q < Q; ++q) {
      const int n = valid - q * T::lanes;
      if (n >= T::lanes)
        T::store(out[j] + offset + q * T::lanes, a.v[j][q]);
      else if (n > 0)
        T::store_first(out[j] + offset + q * T::lanes, a.v[j][q], n);
    }
}

// The same rounded to bf16 (bf16.h's rule), for the bf16 activations of the families whose T stores them.
template <class T, int M, int NB>
inline void store(const Acc<T, M, NB>& a, uint16_t* const* out, int64_t offset, int valid) {
  constexpr int Q = Acc<T, M, NB>::per_row;
#pragma GCC unroll 12
  for (int j = 0; j < M; ++j)
#pragma GCC unroll 8
    for (int q = 0; q < Q; ++q) T::store_bf16(out[j] + offset + q * T::lanes, a.v[j][q], valid - q * T::lanes);
}

template <int R, class F>
inline void tile_of(int rows, int first, F& f) {
  if constexpr (R > 0) {
    if (rows == R)
      f(std::integral_constant<int, R>{}, first);
    else
      tile_of<R - 1>(rows, first, f);
  }
}

// Calls f(std::integral_constant<int, M>{}, first) over `count` rows: full tiles of T::tile_rows(NB) rows, then
// the rest.
template <class T, int NB, class F>
inline void for_each_tile(int count, F&& f) {
  constexpr int rows = T::tile_rows(NB);
  int i = 0;
  for (; i + rows <= count; i += rows) f(std::integral_constant<int, rows>{}, i);
  if (i < count) tile_of<rows - 1>(count - i, i, f);
}

// Calls f(std::integral_constant<int, NB>{}, b) over the 16-channel blocks [begin, end) in groups of up to
// T::tile_blocks, or T::wide_blocks for `wide` (Winograd's GEMMs). A group of one runs the narrowest, slowest
// tile, so 4 blocks go as 2 + 2 rather than 3 + 1, and in wide groups 5 as 3 + 2 and 9 as 4 + 3 + 2.
template <class T, bool wide = false, class F>
inline void for_each_block_group(int begin, int end, F&& f) {
  constexpr int most = wide ? T::wide_blocks : T::tile_blocks;
  for (int b = begin; b < end;) {
    const int rest = end - b;
    int nb = std::min(rest, most);
    if constexpr (most == 4)
      nb = rest == 4 || rest >= 6 ? 4 : std::min(rest, 3);
    else if constexpr (most == 3)
      nb = rest == 4 ? 2 : nb;
    tile_of<most>(nb, b, f);
    b += nb;
  }
}

// Pixel ranges cut on multiples of this keep every register tile of a conv with `blocks` channel blocks whole:
// the rows of its tiles, or T::split_pixels where its block groups run tiles of different heights.
template <class T>
int pixel_unit(int blocks) {
  int rows = 0;
  bool mixed = false;
  for_each_block_group<T>(0, blocks, [&](auto nb, int) {
    const int r = T::tile_rows(decltype(nb)::value);
    mixed = mixed || (rows && r != rows);
    rows = r;
  });
  return mixed || rows == 0 ? T::split_pixels : rows;
}

}  // namespace squeezenet::x86::detail
