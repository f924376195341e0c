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

template <class T>
void max_pool_3x3s2_ceil(const float* in, int h, int w, int c, float* out, int row_begin, int row_end) {
  constexpr int kernel = 3, stride = 2;
  const int ow_count = static_cast<int>(pool_output_size(w, kernel, stride));
  const int64_t row = int64_t{w} * c;
  for (int oh = row_begin; oh < row_end; ++oh) {
    const int h0 = oh * stride, h1 = std::min(h, h0 + kernel);
    for (int ow = 0; ow < ow_count; ++ow) {
      const int w0 = ow * stride, w1 = std::min(w, w0 + kernel);
      const float* first = in + h0 * row + int64_t{w0} * c;
      float* o = out + (int64_t{oh} * ow_count + ow) * c;
      int ch = 0;
      for (; ch + T::lanes <= c; ch += T::lanes) {
        typename T::Vec m = T::load(first + ch);
        for (int ih = h0; ih < h1; ++ih)
          for (int iw = w0; iw < w1; ++iw) m = T::max_keep_nan(m, T::load(in + ih * row + int64_t{iw} * c + ch));
        T::store(o + ch, m);
      }
      for (; ch < c; ++ch) {
        float m = first[ch];
        for (int ih = h0; ih < h1; ++ih)
          for (int iw = w0; iw < w1; ++iw) m = max_keep_nan(m, in[ih * row + int64_t{iw} * c + ch]);
        o[ch] = m;
      }
    }
  }
}

}  // namespace squeezenet::x86
