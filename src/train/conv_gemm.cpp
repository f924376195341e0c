#include "train/conv_gemm.h"

#include <algorithm>

#include "squeezenet/error.h"
#include "squeezenet/model.h"
#include "train/gemm.h"
#include "train/pairwise_sum.h"
#include "train/profile.h"

namespace squeezenet::train {
namespace {

struct Geometry {
  int64_t N, C, H, W, O, K, OH, OW;
  int stride, padding;
  int64_t rows() const { return C * K * K; }  // im2col rows: (channel, kernel row, kernel column)
  int64_t pixels() const { return OH * OW; }
  bool direct() const { return K == 1 && stride == 1 && padding == 0; }
};

Geometry geometry(const Tensor& x, const Tensor& weight, int stride, int padding) {
  if (x.ndim() != 4 || weight.ndim() != 4 || weight.dim(1) != x.dim(1) || weight.dim(2) != weight.dim(3))
    throw Error("conv2d: weight " + shape_str(weight.shape()) + " does not fit input " + shape_str(x.shape()));
  Geometry g{x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0), weight.dim(2), 0, 0, stride, padding};
  g.OH = conv_output_size(g.H, static_cast<int>(g.K), stride, padding);
  g.OW = conv_output_size(g.W, static_cast<int>(g.K), stride, padding);
  return g;
}

void im2col(const Geometry& g, const float* x, float* cols) {
  for (int64_t row = 0; row < g.rows(); ++row) {
    const int64_t c = row / (g.K * g.K), kh = row / g.K % g.K, kw = row % g.K;
    float* out = cols + row * g.pixels();
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const int64_t ih = oh * g.stride - g.padding + kh;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t iw = ow * g.stride - g.padding + kw;
        out[oh * g.OW + ow] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[(c * g.H + ih) * g.W + iw] : 0.0f;
      }
    }
  }
}

// The adjoint of im2col: every column entry adds into the input pixel it was read from.
void col2im(const Geometry& g, const float* cols, float* dx) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t kh = 0; kh < g.K; ++kh)
      for (int64_t kw = 0; kw < g.K; ++kw) {
        const float* in = cols + ((c * g.K + kh) * g.K + kw) * g.pixels();
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * g.stride - g.padding + kh;
          if (ih < 0 || ih >= g.H) continue;
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            const int64_t iw = ow * g.stride - g.padding + kw;
            if (iw >= 0 && iw < g.W) dx[(c * g.H + ih) * g.W + iw] += in[oh * g.OW + ow];
          }
        }
      }
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride, int padding) {
  const Geometry g = geometry(x, weight, stride, padding);
  Tensor y({g.N, g.O, g.OH, g.OW});
  // Threads take whole images: one parallel region per layer keeps the threads busy between barriers.
#pragma omp parallel if (g.N > 1)
  {
    std::vector<float> cols(g.direct() ? 0 : static_cast<std::size_t>(g.rows() * g.pixels()));
#pragma omp for schedule(dynamic)
    for (int64_t n = 0; n < g.N; ++n) {
      const float* xn = x.data() + n * g.C * g.H * g.W;
      if (!g.direct()) {
        const profile::Scope s("[thread] im2col");
        im2col(g, xn, cols.data());
      }
      const profile::Scope s("[thread] gemm forward");
      float* yn = y.data() + n * g.O * g.pixels();
      for (int64_t o = 0; o < g.O; ++o) std::fill_n(yn + o * g.pixels(), g.pixels(), bias[o]);
      sgemm(g.O, g.pixels(), g.rows(), {weight.data(), g.rows()}, {g.direct() ? xn : cols.data(), g.pixels()}, yn,
            g.pixels(), true);
    }
  }
  return y;
}

Tensor conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, int stride, int padding,
                       Tensor& weight_grad, Tensor& bias_grad, bool need_input_grad) {
  const Geometry g = geometry(x, weight, stride, padding);
  if (dy.shape() != Shape{g.N, g.O, g.OH, g.OW} || weight_grad.shape() != weight.shape() || bias_grad.numel() != g.O)
    throw Error("conv2d backward: gradient " + shape_str(dy.shape()) + " does not fit input " +
                shape_str(x.shape()) + " and weight " + shape_str(weight.shape()));
  Tensor dx = need_input_grad ? Tensor(x.shape()) : Tensor();
  // Each image's weight and bias gradients land in their own slot and are summed afterwards in the pairwise
  // tree over the images (train/pairwise_sum.h), so the result is the same whichever thread took which image,
  // and a batch's sum is the sum of its aligned halves' sums.
  const int64_t wsize = g.O * g.rows();
  std::vector<float> parts(static_cast<std::size_t>(g.N * (wsize + g.O)));
#pragma omp parallel if (g.N > 1)
  {
    std::vector<float> cols(g.direct() ? 0 : static_cast<std::size_t>(g.rows() * g.pixels()));
#pragma omp for schedule(dynamic)
    for (int64_t n = 0; n < g.N; ++n) {
      const float* xn = x.data() + n * g.C * g.H * g.W;
      const float* dyn = dy.data() + n * g.O * g.pixels();
      float* dw = parts.data() + n * (wsize + g.O);
      float* db = dw + wsize;
      for (int64_t o = 0; o < g.O; ++o) {
        float s = 0.0f;
        for (int64_t p = 0; p < g.pixels(); ++p) s += dyn[o * g.pixels() + p];
        db[o] = s;
      }
      if (!g.direct()) {
        const profile::Scope s("[thread] im2col");
        im2col(g, xn, cols.data());
      }
      {
        const profile::Scope s("[thread] gemm dW");
        // dW[O, CKK] = dY[O, P] * cols[CKK, P]^T
        sgemm(g.O, g.rows(), g.pixels(), {dyn, g.pixels()}, {g.direct() ? xn : cols.data(), g.pixels(), true}, dw,
              g.rows(), false);
      }
      if (!need_input_grad) continue;
      // dcols[CKK, P] = W[O, CKK]^T * dY[O, P], folded back onto the image.
      float* dxn = dx.data() + n * g.C * g.H * g.W;
      {
        const profile::Scope s("[thread] gemm dX");
        sgemm(g.rows(), g.pixels(), g.O, {weight.data(), g.rows(), true}, {dyn, g.pixels()},
              g.direct() ? dxn : cols.data(), g.pixels(), false);
      }
      if (!g.direct()) {
        const profile::Scope s("[thread] col2im");
        col2im(g, cols.data(), dxn);
      }
    }
  }
  if (g.N == 0) return dx;
  std::vector<float*> images(static_cast<std::size_t>(g.N));
  for (int64_t n = 0; n < g.N; ++n) images[static_cast<std::size_t>(n)] = parts.data() + n * (wsize + g.O);
  pairwise_sum(images, 0, wsize + g.O);
  const float* sum = images.front();
  for (int64_t i = 0; i < wsize; ++i) weight_grad[i] += sum[i];
  for (int64_t o = 0; o < g.O; ++o) bias_grad[o] += sum[wsize + o];
  return dx;
}

}  // namespace squeezenet::train
