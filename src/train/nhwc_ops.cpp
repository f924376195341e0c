#include "train/nhwc_ops.h"

#include <algorithm>

#include "squeezenet/model.h"
#include "train/grad_kernels_isa.h"

namespace squeezenet::train {

namespace baseline {
#include "train/nhwc_loops_impl.h"
}  // namespace baseline

namespace {

struct Loops {
  decltype(&baseline::max_pool_backward) max_pool_backward;
  decltype(&baseline::channel_sums) channel_sums;
  decltype(&baseline::relu_backward) relu_backward;
};

const Loops& loops() {
  static const Loops l = [] {
    switch (grad_isa()) {
      case GradIsa::avx512: return Loops{avx512::max_pool_backward, avx512::channel_sums, avx512::relu_backward};
      case GradIsa::avx2: return Loops{avx2::max_pool_backward, avx2::channel_sums, avx2::relu_backward};
      default: return Loops{baseline::max_pool_backward, baseline::channel_sums, baseline::relu_backward};
    }
  }();
  return l;
}

}  // namespace

void max_pool_backward(const float* x, int h, int w, int c, const float* dy, float* dx) {
  loops().max_pool_backward(x, h, w, c, dy, dx);
}

void channel_sums(int h, int w, PixelMap<const float> g, int n, float* out) { loops().channel_sums(h, w, g, n, out); }

void relu_backward(int h, int w, PixelMap<const float> y, PixelMap<const float> dy, PixelMap<float> dx, int n) {
  loops().relu_backward(h, w, y, dy, dx, n);
}

void zero_border(float* frame, int h, int w, int c) {
  const int64_t row = int64_t{w + 2} * c;
  std::fill_n(frame, row, 0.0f);
  std::fill_n(frame + (h + 1) * row, row, 0.0f);
  for (int y = 1; y <= h; ++y) {
    std::fill_n(frame + y * row, c, 0.0f);
    std::fill_n(frame + y * row + (w + 1) * int64_t{c}, c, 0.0f);
  }
}

void nchw_to_nhwc(const float* in, int c, int h, int w, float* out) {
  const int64_t hw = int64_t{h} * w;
  for (int64_t p = 0; p < hw; ++p)
    for (int j = 0; j < c; ++j) out[p * c + j] = in[j * hw + p];
}

void nhwc_to_nchw(const float* in, int h, int w, int c, float* out) {
  const int64_t hw = int64_t{h} * w;
  for (int j = 0; j < c; ++j)
    for (int64_t p = 0; p < hw; ++p) out[j * hw + p] = in[p * c + j];
}

}  // namespace squeezenet::train
