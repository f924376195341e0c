#pragma once
// Ceil-mode 3x3 stride-2 max-pool on NHWC, vectorised over channels: memory-bound, so the wider the vector the
// better. Included by pool_avx2.cpp and kernels_avx512.cpp, each instantiating it for its own T.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "squeezenet/model.h"

namespace squeezenet::x86 {

namespace {  // each ISA's translation unit its own copy
inline float max_keep_nan(float m, float v) { return std::isnan(m) || v <= m ? m : v; }
}  // namespace

// Separable: the max down each input column's (up to) 3 rows, then across 3 columns, the window's last column
// carried over as the next window's first. Pixel by pixel, all of a pixel's channels before the next: the
// channels of a pixel are adjacent in memory, so each step reads a few whole cache lines (28 % faster than
// channel block by channel block, which strides through the map once per block). `keep_nan` = false where the
// input cannot hold a NaN (a ReLU's output), which saves an instruction per max.
// E: the element T's vectors hold, float, or uint16_t for bf16 ReLU outputs (Avx512Bf16Max, isa_avx512bf16.h).
template <class T, bool keep_nan, class E = float>
void max_pool_3x3s2_ceil(const E* in, int h, int w, int c, E* out, int row_begin, int row_end) {
  using V = typename T::Vec;
  const auto vmax = [](V m, V v) {
    if constexpr (keep_nan) return T::max_keep_nan(m, v);
    else return T::max(m, v);
  };
  const auto smax = [](E m, E v) -> E {
    if constexpr (keep_nan) return max_keep_nan(m, v);
    else return std::max(m, v);
  };
  const int ow_count = static_cast<int>(pool_output_size(w, 3, 2));
  const int64_t row = int64_t{w} * c;
  constexpr int kCarried = 32;  // vectors of carried columns: channels are taken 32 vectors at a time
  V left[kCarried];
  const int vector_channels = c / T::lanes * T::lanes;
  for (int oh = row_begin; oh < row_end; ++oh) {
    const int h0 = oh * 2, rows = std::min(h - h0, 3);
    const E* top = in + h0 * row;
    E* o = out + int64_t{oh} * ow_count * c;
    const auto column = [&](int x, int ch) {
      const E* p = top + int64_t{x} * c + ch;
      V m = T::load(p);
      for (int r = 1; r < rows; ++r) m = vmax(m, T::load(p + r * row));
      return m;
    };
    for (int c0 = 0; c0 < vector_channels; c0 += kCarried * T::lanes) {
      const int c1 = std::min(vector_channels, c0 + kCarried * T::lanes);
      for (int ch = c0; ch < c1; ch += T::lanes) left[(ch - c0) / T::lanes] = column(0, ch);
      for (int ow = 0; ow < ow_count; ++ow)
        for (int ch = c0; ch < c1; ch += T::lanes) {
          V& carried = left[(ch - c0) / T::lanes];
          V m = carried;
          if (2 * ow + 1 < w) m = vmax(m, column(2 * ow + 1, ch));
          if (2 * ow + 2 < w) m = vmax(m, carried = column(2 * ow + 2, ch));
          T::store(o + int64_t{ow} * c + ch, m);
        }
    }
    for (int ch = vector_channels; ch < c; ++ch)
      for (int ow = 0; ow < ow_count; ++ow) {
        const int w0 = ow * 2, w1 = std::min(w, w0 + 3);
        E m = top[int64_t{w0} * c + ch];
        for (int r = 0; r < rows; ++r)
          for (int x = w0; x < w1; ++x) m = smax(m, top[r * row + int64_t{x} * c + ch]);
        o[int64_t{ow} * c + ch] = m;
      }
  }
}

}  // namespace squeezenet::x86
