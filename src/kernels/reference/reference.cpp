#include "kernels/reference/reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "squeezenet/error.h"
#include "squeezenet/model.h"

namespace squeezenet::ref {

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride, int padding) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t O = weight.dim(0), K = weight.dim(2);
  if (weight.dim(1) != C || weight.dim(3) != K || bias.numel() != O)
    throw Error("conv2d: weight " + shape_str(weight.shape()) + " does not fit input " + shape_str(x.shape()));
  const int64_t OH = conv_output_size(H, static_cast<int>(K), stride, padding);
  const int64_t OW = conv_output_size(W, static_cast<int>(K), stride, padding);
  Tensor y({N, O, OH, OW});
  // Loops ordered so that the innermost one walks an output row: still the textbook sum, a few times faster.
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      float* out = y.data() + (n * O + o) * OH * OW;
      std::fill(out, out + OH * OW, bias[o]);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t kh = 0; kh < K; ++kh)
          for (int64_t kw = 0; kw < K; ++kw) {
            const float w = weight[((o * C + c) * K + kh) * K + kw];
            const float* in = x.data() + (n * C + c) * H * W;
            for (int64_t oh = 0; oh < OH; ++oh) {
              const int64_t ih = oh * stride - padding + kh;
              if (ih < 0 || ih >= H) continue;
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw = ow * stride - padding + kw;
                if (iw >= 0 && iw < W) out[oh * OW + ow] += w * in[ih * W + iw];
              }
            }
          }
    }
  return y;
}

void relu_(Tensor& x) {
  // Written so that a NaN stays NaN, as torch.relu keeps it.
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = x[i] < 0.0f ? 0.0f : x[i];
}

Tensor max_pool2d_ceil(const Tensor& x, int kernel, int stride) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t OH = pool_output_size(H, kernel, stride), OW = pool_output_size(W, kernel, stride);
  Tensor y({N, C, OH, OW});
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t ih = oh * stride; ih < std::min(H, oh * stride + kernel); ++ih)
          for (int64_t iw = ow * stride; iw < std::min(W, ow * stride + kernel); ++iw) {
            const float v = x[(nc * H + ih) * W + iw];
            if (v > m || std::isnan(v)) m = v;  // PyTorch propagates NaN
          }
        y[(nc * OH + oh) * OW + ow] = m;
      }
  return y;
}

Tensor concat_channels(const Tensor& a, const Tensor& b) {
  const int64_t N = a.dim(0), Ca = a.dim(1), Cb = b.dim(1), HW = a.dim(2) * a.dim(3);
  if (b.dim(0) != N || b.dim(2) != a.dim(2) || b.dim(3) != a.dim(3))
    throw Error("concat: " + shape_str(a.shape()) + " and " + shape_str(b.shape()) + " differ");
  Tensor y({N, Ca + Cb, a.dim(2), a.dim(3)});
  for (int64_t n = 0; n < N; ++n) {
    std::copy(a.data() + n * Ca * HW, a.data() + (n + 1) * Ca * HW, y.data() + n * (Ca + Cb) * HW);
    std::copy(b.data() + n * Cb * HW, b.data() + (n + 1) * Cb * HW, y.data() + (n * (Ca + Cb) + Ca) * HW);
  }
  return y;
}

Tensor global_avg_pool(const Tensor& x) {
  const int64_t N = x.dim(0), C = x.dim(1), HW = x.dim(2) * x.dim(3);
  Tensor y({N, C});
  for (int64_t nc = 0; nc < N * C; ++nc) {
    double s = 0.0;
    for (int64_t i = 0; i < HW; ++i) s += x[nc * HW + i];
    y[nc] = static_cast<float>(s / static_cast<double>(HW));
  }
  return y;
}

Tensor softmax(const Tensor& logits) {
  const int64_t N = logits.dim(0), K = logits.dim(1);
  Tensor p(logits.shape());
  for (int64_t n = 0; n < N; ++n) {
    const float* z = logits.data() + n * K;
    const float m = *std::max_element(z, z + K);
    double s = 0.0;
    for (int64_t k = 0; k < K; ++k) s += std::exp(static_cast<double>(z[k] - m));
    for (int64_t k = 0; k < K; ++k) p[n * K + k] = static_cast<float>(std::exp(static_cast<double>(z[k] - m)) / s);
  }
  return p;
}

}  // namespace squeezenet::ref
