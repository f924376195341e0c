// The AVX2 max-pool (pool_impl.h), and the NCHW -> NHWC entry transpose.
#include "kernels/x86/isa_avx2.h"
#include "kernels/x86/kernels_avx2.h"
#include "kernels/x86/pool_impl.h"

namespace squeezenet::avx2 {

void max_pool_3x3s2_ceil(const float* in, int h, int w, int c, float* out, int row_begin, int row_end) {
  x86::max_pool_3x3s2_ceil<x86::Avx2>(in, h, w, c, out, row_begin, row_end);
}

void nchw_to_nhwc(const float* in, int c, int h, int w, float* out, int row_begin, int row_end) {
  const int64_t plane = int64_t{h} * w;
  for (int y = row_begin; y < row_end; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) out[(int64_t{y} * w + x) * c + ch] = in[ch * plane + int64_t{y} * w + x];
}

}  // namespace squeezenet::avx2
