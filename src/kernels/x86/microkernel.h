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

// M rows of input (in[j] under row j's first tap) against NB blocks' panels, `panel_stride` floats apart.
// `bias`: NB * 16 floats the accumulators start from, or nullptr for zeros.
template <class T, int M, int NB>
inline Acc<T, M, NB> gemm_tile(const float* const* in, const float* panel, int64_t panel_stride, const float* bias,
                               const Reduction& r) {
  using A = Acc<T, M, NB>;
  constexpr int Q = A::per_row, per_block = kTileChannels / T::lanes;
  A a;
  typename T::Vec init[Q];
#pragma GCC unroll 8
  for (int q = 0; q < Q; ++q) init[q] = bias ? T::load(bias + q * T::lanes) : T::zero();
#pragma GCC unroll 12
  for (int j = 0; j < M; ++j)
#pragma GCC unroll 8
    for (int q = 0; q < Q; ++q) a.v[j][q] = init[q];
  const float* w = panel;
  for (int s = 0; s < r.rows; ++s) {
    const float* p[M];
#pragma GCC unroll 12
    for (int j = 0; j < M; ++j) p[j] = in[j] + s * r.row_stride;
    for (int k = 0; k < r.run; ++k, w += kTileChannels) {
      typename T::Vec wv[Q];
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q) wv[q] = T::load(w + (q / per_block) * panel_stride + (q % per_block) * T::lanes);
#pragma GCC unroll 12
      for (int j = 0; j < M; ++j) {
        const typename T::Vec x = T::broadcast(p[j] + k);
#pragma GCC unroll 8
        for (int q = 0; q < Q; ++q) a.v[j][q] = T::fmadd(x, wv[q], a.v[j][q]);
      }
    }
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
// T::tile_blocks. A group of one runs the narrowest, slowest tile, so 4 blocks go as 2 + 2 rather than 3 + 1.
template <class T, class F>
inline void for_each_block_group(int begin, int end, F&& f) {
  for (int b = begin; b < end;) {
    const int rest = end - b;
    const int nb = T::tile_blocks == 3 && rest == 4 ? 2 : std::min(rest, T::tile_blocks);
    if (nb == T::tile_blocks)
      f(std::integral_constant<int, T::tile_blocks>{}, b);
    else
      tile_of<T::tile_blocks - 1>(nb, b, f);
    b += nb;
  }
}

}  // namespace squeezenet::x86::detail
