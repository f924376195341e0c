#include "train/reference_backward.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "squeezenet/error.h"
#include "squeezenet/model.h"

namespace squeezenet::ref {

ConvGrads conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, int stride, int padding,
                          bool need_input_grad) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t O = weight.dim(0), K = weight.dim(2);
  const int64_t OH = dy.dim(2), OW = dy.dim(3);
  if (weight.dim(1) != C || dy.dim(0) != N || dy.dim(1) != O ||
      OH != conv_output_size(H, static_cast<int>(K), stride, padding) ||
      OW != conv_output_size(W, static_cast<int>(K), stride, padding))
    throw Error("conv2d backward: gradient " + shape_str(dy.shape()) + " does not fit input " +
                shape_str(x.shape()) + " and weight " + shape_str(weight.shape()));
  ConvGrads g{need_input_grad ? Tensor(x.shape()) : Tensor(), Tensor(weight.shape()), Tensor({O})};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      const float* d = dy.data() + (n * O + o) * OH * OW;
      for (int64_t i = 0; i < OH * OW; ++i) g.bias[o] += d[i];
      for (int64_t c = 0; c < C; ++c)
        for (int64_t kh = 0; kh < K; ++kh)
          for (int64_t kw = 0; kw < K; ++kw) {
            const int64_t widx = ((o * C + c) * K + kh) * K + kw;
            const float w = weight[widx];
            const int64_t plane = (n * C + c) * H * W;
            float dw = 0.0f;
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * stride - padding + kh;
              if (ih < 0 || ih >= H) continue;
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw = ow * stride - padding + kw;
                if (iw < 0 || iw >= W) continue;
                dw += d[oh * OW + ow] * x[plane + ih * W + iw];
                if (need_input_grad) g.input[plane + ih * W + iw] += w * d[oh * OW + ow];
              }
            }
            g.weight[widx] += dw;
          }
    }
  return g;
}

Tensor relu_backward(const Tensor& y, const Tensor& dy) {
  Tensor dx(dy.shape());
  for (int64_t i = 0; i < dy.numel(); ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  return dx;
}

Tensor max_pool2d_ceil_backward(const Tensor& x, const Tensor& dy, int kernel, int stride) {
  const int64_t NC = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3), OH = dy.dim(2), OW = dy.dim(3);
  Tensor dx(x.shape());
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t h0 = oh * stride, w0 = ow * stride;
        int64_t arg = (nc * H + h0) * W + w0;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t ih = h0; ih < std::min(H, h0 + kernel); ++ih)
          for (int64_t iw = w0; iw < std::min(W, w0 + kernel); ++iw) {
            const int64_t i = (nc * H + ih) * W + iw;
            if (x[i] > m || std::isnan(x[i])) {  // PyTorch's test: NaN always takes over
              m = x[i];
              arg = i;
            }
          }
        dx[arg] += dy[(nc * OH + oh) * OW + ow];
      }
  return dx;
}

Tensor global_avg_pool_backward(const Shape& input_shape, const Tensor& dy) {
  Tensor dx(input_shape);
  const int64_t NC = input_shape[0] * input_shape[1], HW = input_shape[2] * input_shape[3];
  for (int64_t nc = 0; nc < NC; ++nc) std::fill_n(dx.data() + nc * HW, HW, dy[nc] / static_cast<float>(HW));
  return dx;
}

std::pair<Tensor, Tensor> split_channels(const Tensor& dy, int64_t channels_a) {
  const int64_t N = dy.dim(0), C = dy.dim(1), HW = dy.dim(2) * dy.dim(3), Cb = C - channels_a;
  Tensor a({N, channels_a, dy.dim(2), dy.dim(3)}), b({N, Cb, dy.dim(2), dy.dim(3)});
  for (int64_t n = 0; n < N; ++n) {
    const float* src = dy.data() + n * C * HW;
    std::copy(src, src + channels_a * HW, a.data() + n * channels_a * HW);
    std::copy(src + channels_a * HW, src + C * HW, b.data() + n * Cb * HW);
  }
  return {std::move(a), std::move(b)};
}

}  // namespace squeezenet::ref
