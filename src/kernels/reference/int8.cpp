#include "kernels/reference/int8.h"

#include <algorithm>
#include <cmath>

#include "squeezenet/error.h"
#include "squeezenet/model.h"

namespace squeezenet::ref {

std::vector<int32_t> conv2d_u8s8(const U8Tensor& x, int zero_point, const std::vector<int8_t>& weight, int out_channels,
                                 int kernel, int stride, int padding, Shape& out_shape) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], O = out_channels, K = kernel;
  if (static_cast<int64_t>(weight.size()) != O * C * K * K)
    throw Error("conv2d_u8s8: weight of " + std::to_string(weight.size()) + " values does not fit input " +
                shape_str(x.shape));
  const int64_t OH = conv_output_size(H, kernel, stride, padding), OW = conv_output_size(W, kernel, stride, padding);
  out_shape = {N, O, OH, OW};
  std::vector<int32_t> acc(static_cast<std::size_t>(N * O * OH * OW), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int32_t s = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t kh = 0; kh < K; ++kh)
              for (int64_t kw = 0; kw < K; ++kw) {
                const int64_t ih = oh * stride - padding + kh, iw = ow * stride - padding + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int32_t v = x.data[static_cast<std::size_t>(((n * C + c) * H + ih) * W + iw)] - zero_point;
                s += v * weight[static_cast<std::size_t>(((o * C + c) * K + kh) * K + kw)];
              }
          acc[static_cast<std::size_t>(((n * O + o) * OH + oh) * OW + ow)] = s;
        }
  return acc;
}

Tensor conv2d_kept_fp32(const Tensor& x, const std::vector<float>& weight, const std::vector<float>& bias, int kernel,
                        int stride, int padding) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), O = static_cast<int64_t>(bias.size()), K = kernel;
  if (static_cast<int64_t>(weight.size()) != O * C * K * K)
    throw Error("conv2d_kept_fp32: weight of " + std::to_string(weight.size()) + " values does not fit input " +
                shape_str(x.shape()));
  const int64_t OH = conv_output_size(H, kernel, stride, padding), OW = conv_output_size(W, kernel, stride, padding);
  Tensor y({N, O, OH, OW});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          float s = bias[static_cast<std::size_t>(o)];
          for (int64_t kh = 0; kh < K; ++kh)
            for (int64_t kw = 0; kw < K; ++kw)
              for (int64_t c = 0; c < C; ++c) {
                const int64_t ih = oh * stride - padding + kh, iw = ow * stride - padding + kw;
                const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                const float v = inside ? x[((n * C + c) * H + ih) * W + iw] : 0.0f;
                s = std::fma(v, weight[static_cast<std::size_t>(((o * C + c) * K + kh) * K + kw)], s);
              }
          y[((n * O + o) * OH + oh) * OW + ow] = s > 0.0f ? s : 0.0f;
        }
  return y;
}

namespace {
// maxps / minps: the second operand when the comparison is false, so both families agree on every input.
float clamp_u8(float y) {
  y = y > 0.0f ? y : 0.0f;
  return y < 255.0f ? y : 255.0f;
}
}  // namespace

uint8_t requantize(int32_t acc, float multiplier, float offset) {
  return static_cast<uint8_t>(std::nearbyint(clamp_u8(std::fma(static_cast<float>(acc), multiplier, offset))));
}

float dequantize_relu(int32_t acc, float multiplier, float bias) {
  const float y = std::fma(static_cast<float>(acc), multiplier, bias);
  return y > 0.0f ? y : 0.0f;
}

uint8_t quantize_input(float x, float inverse_scale) {
  return static_cast<uint8_t>(std::nearbyint(clamp_u8(std::fma(x, inverse_scale, 128.0f))));
}

uint8_t quantize_kept(float y, float inverse_scale) {
  return static_cast<uint8_t>(std::nearbyint(clamp_u8(y * inverse_scale)));
}

U8Tensor max_pool2d_ceil_u8(const U8Tensor& x, int kernel, int stride) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t OH = pool_output_size(H, kernel, stride), OW = pool_output_size(W, kernel, stride);
  U8Tensor y{{N, C, OH, OW}, std::vector<uint8_t>(static_cast<std::size_t>(N * C * OH * OW))};
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        uint8_t m = 0;
        for (int64_t ih = oh * stride; ih < std::min(H, oh * stride + kernel); ++ih)
          for (int64_t iw = ow * stride; iw < std::min(W, ow * stride + kernel); ++iw)
            m = std::max(m, x.data[static_cast<std::size_t>((nc * H + ih) * W + iw)]);
        y.data[static_cast<std::size_t>((nc * OH + oh) * OW + ow)] = m;
      }
  return y;
}

}  // namespace squeezenet::ref
