// The entry points of one ISA's namespace (grad_kernels_isa.h) over grad_kernels_impl.h's tiles and
// nhwc_loops_impl.h's loops. Included last by grad_kernels_<isa>.cpp, inside its namespace and target pragma.

#include "train/nhwc_loops_impl.h"

void weight_grad_tiles(int h, int w, PixelMap<const float> a, int m, PixelMap<const float> b, int n, float* c,
                       int64_t ldc, bool accumulate) {
  run_weight_grad(WeightGrad{h, w, m, n, a, b, c, ldc}, accumulate);
}

void input_grad_tiles(int h, int w, PixelMap<const float> in, Reduction r, const Panels& b, PixelMap<float> out,
                      bool accumulate) {
  run_input_grad(h, w, in, r, b, out, accumulate);
}
