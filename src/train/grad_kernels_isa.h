#pragma once
// The training backward's kernels of each ISA, in that ISA's namespace (grad_kernels_<isa>.cpp): the register
// tiles of grad_kernels.h and the loops of nhwc_ops.h. Callable only where the CPU has the ISA.
#include "train/grad_kernels.h"

namespace squeezenet::train {

enum class GradIsa { baseline, avx2, avx512 };
// The widest this CPU has, unless SQUEEZENET_ISA=avx2 holds an AVX-512 machine to AVX2 (as for inference).
GradIsa grad_isa();

#define SQUEEZENET_GRAD_KERNELS                                                                                   \
  void weight_grad_tiles(int h, int w, PixelMap<const float> a, int m, PixelMap<const float> b, int n, float* c,  \
                         int64_t ldc, bool accumulate);                                                           \
  void input_grad_tiles(int h, int w, PixelMap<const float> in, Reduction r, const Panels& b, PixelMap<float> out, \
                        bool accumulate);                                                                         \
  void max_pool_backward(const float* x, int h, int w, int c, const float* dy, float* dx);                        \
  void channel_sums(int h, int w, PixelMap<const float> g, int n, float* out);                                    \
  void relu_backward(int h, int w, PixelMap<const float> y, PixelMap<const float> dy, PixelMap<float> dx, int n);

namespace avx2 {
SQUEEZENET_GRAD_KERNELS
}
namespace avx512 {
SQUEEZENET_GRAD_KERNELS
}

#undef SQUEEZENET_GRAD_KERNELS

}  // namespace squeezenet::train
