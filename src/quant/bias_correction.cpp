#include "quant/bias_correction.h"

namespace squeezenet::quant {

void InputMeans::add(const std::string& conv, const Conv2dSpec& spec, const Tensor& x) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), K = spec.kernel;
  const int64_t OH = conv_output_size(H, spec.kernel, spec.stride, spec.padding);
  const int64_t OW = conv_output_size(W, spec.kernel, spec.stride, spec.padding);
  Sums& s = sums_[conv];
  s.sum.resize(static_cast<std::size_t>(C * K * K), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t kh = 0; kh < K; ++kh)
        for (int64_t kw = 0; kw < K; ++kw) {
          double total = 0.0;
          for (int64_t oh = 0; oh < OH; ++oh) {
            const int64_t ih = oh * spec.stride - spec.padding + kh;
            if (ih < 0 || ih >= H) continue;
            for (int64_t ow = 0; ow < OW; ++ow) {
              const int64_t iw = ow * spec.stride - spec.padding + kw;
              if (iw >= 0 && iw < W) total += x[((n * C + c) * H + ih) * W + iw];
            }
          }
          s.sum[static_cast<std::size_t>((c * K + kh) * K + kw)] += total / static_cast<double>(OH * OW);
        }
  s.images += static_cast<double>(N);
}

std::vector<float> InputMeans::corrected_bias(const QuantizedConv& q, const Tensor& fp32_weight,
                                              const std::vector<float>& gains, const InputMeans& quantized) const {
  const Sums &s = sums_.at(q.name), &sq = quantized.sums_.at(q.name);
  const std::size_t O = q.bias.size(), per = s.sum.size(), taps = static_cast<std::size_t>(q.spec.kernel * q.spec.kernel);
  std::vector<float> bias = q.bias;
  for (std::size_t o = 0; o < O; ++o) {
    double shift = 0.0;
    for (std::size_t i = 0; i < per; ++i)
      shift += q.weight[o * per + i] * static_cast<double>(q.weight_scale[o]) * (gains.empty() ? 1.0f : gains[i / taps]) *
                   sq.sum[i] / sq.images -
               fp32_weight[static_cast<int64_t>(o * per + i)] * s.sum[i] / s.images;
    bias[o] = static_cast<float>(bias[o] - shift);
  }
  return bias;
}

}  // namespace squeezenet::quant
