// Ceil-mode max-pool and the NCHW -> NHWC entry transpose: memory-bound steps, vectorised over channels.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/x86/kernels_avx2.h"
#include "squeezenet/model.h"

namespace squeezenet::avx2 {

namespace {
// max that keeps a NaN once seen, from either side, as PyTorch's max-pool does (vmaxps alone returns its second
// operand when either is NaN).
inline __m256 max_nan(__m256 m, __m256 v) {
  const __m256 r = _mm256_max_ps(m, v);
  return _mm256_blendv_ps(r, m, _mm256_cmp_ps(m, m, _CMP_UNORD_Q));
}
inline float max_nan(float m, float v) { return std::isnan(m) || v <= m ? m : v; }
}  // namespace

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
      for (; ch + 8 <= c; ch += 8) {
        __m256 m = _mm256_loadu_ps(first + ch);
        for (int ih = h0; ih < h1; ++ih)
          for (int iw = w0; iw < w1; ++iw) m = max_nan(m, _mm256_loadu_ps(in + ih * row + int64_t{iw} * c + ch));
        _mm256_storeu_ps(o + ch, m);
      }
      for (; ch < c; ++ch) {
        float m = first[ch];
        for (int ih = h0; ih < h1; ++ih)
          for (int iw = w0; iw < w1; ++iw) m = max_nan(m, in[ih * row + int64_t{iw} * c + ch]);
        o[ch] = m;
      }
    }
  }
}

void nchw_to_nhwc(const float* in, int c, int h, int w, float* out, int row_begin, int row_end) {
  const int64_t plane = int64_t{h} * w;
  for (int y = row_begin; y < row_end; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) out[(int64_t{y} * w + x) * c + ch] = in[ch * plane + int64_t{y} * w + x];
}

}  // namespace squeezenet::avx2
