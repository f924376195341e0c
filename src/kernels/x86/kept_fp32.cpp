#include "kernels/x86/kept_fp32.h"

#include "kernels/dispatch.h"

namespace squeezenet::x86::kept {

int64_t PackedConv::bytes() const { return static_cast<int64_t>((weight.size() + bias.size()) * sizeof(float)); }

PackedConv pack(const std::vector<float>& weight, const std::vector<float>& bias, int out_channels, int in_channels,
                int kernel, int stride, float output_scale) {
  PackedConv p;
  p.out_channels = out_channels;
  p.in_channels = in_channels;
  p.kernel = kernel;
  p.stride = stride;
  p.blocks = (out_channels + kBlock - 1) / kBlock;
  p.inverse_output_scale = output_scale > 0.0f ? 1.0f / output_scale : 0.0f;
  const int64_t taps = static_cast<int64_t>(kernel) * kernel, C = in_channels;
  p.weight.assign(static_cast<std::size_t>(p.blocks * taps * C * kBlock), 0.0f);
  p.bias.assign(static_cast<std::size_t>(p.blocks * kBlock), 0.0f);
  for (int64_t o = 0; o < out_channels; ++o) {
    p.bias[static_cast<std::size_t>(o)] = bias[static_cast<std::size_t>(o)];
    for (int64_t c = 0; c < C; ++c)
      for (int64_t t = 0; t < taps; ++t)
        p.weight[static_cast<std::size_t>(((o / kBlock * taps + t) * C + c) * kBlock + o % kBlock)] =
            weight[static_cast<std::size_t>((o * C + c) * taps + t)];
  }
  return p;
}

void conv(const PackedConv& k, const IO& io, int64_t first, int64_t last) {
  static const bool wide = kernels::has_avx512();
  (wide ? conv_avx512 : conv_avx2)(k, io, first, last);
}

}  // namespace squeezenet::x86::kept
