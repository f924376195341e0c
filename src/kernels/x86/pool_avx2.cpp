// The AVX2 instances of the max-pool (pool_impl.h) and the entry transpose (layout_impl.h).
#include "kernels/x86/isa_avx2.h"
#include "kernels/x86/kernels_avx2.h"
#include "kernels/x86/layout_impl.h"
#include "kernels/x86/pool_impl.h"

namespace squeezenet::avx2 {

void max_pool_3x3s2_ceil(const float* in, int h, int w, int c, float* out, int row_begin, int row_end) {
  x86::max_pool_3x3s2_ceil<x86::Avx2, true>(in, h, w, c, out, row_begin, row_end);
}

void max_pool_3x3s2_ceil_no_nan(const float* in, int h, int w, int c, float* out, int row_begin, int row_end) {
  x86::max_pool_3x3s2_ceil<x86::Avx2, false>(in, h, w, c, out, row_begin, row_end);
}

bool rgb_to_nhwc(const float* in, int h, int w, float* out, int row_begin, int row_end) {
  return x86::rgb_to_nhwc<x86::Avx2>(in, h, w, out, row_begin, row_end);
}

}  // namespace squeezenet::avx2
