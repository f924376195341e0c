// The weight packing shared by every ISA, and the AVX2 instance of the implicit-GEMM conv (conv_impl.h).
#include "kernels/x86/conv_impl.h"
#include "kernels/x86/isa_avx2.h"
#include "squeezenet/error.h"

namespace squeezenet::avx2 {

PackedConv pack_conv(const Tensor& weight, const Tensor& bias, int stride) {
  if (weight.ndim() != 4 || weight.dim(2) != weight.dim(3) || bias.ndim() != 1 || bias.dim(0) != weight.dim(0))
    throw Error("pack_conv: weight " + shape_str(weight.shape()) + " and bias " + shape_str(bias.shape()) +
                " are not a square conv's");
  PackedConv p;
  p.out_channels = static_cast<int>(weight.dim(0));
  p.in_channels = static_cast<int>(weight.dim(1));
  p.kernel = static_cast<int>(weight.dim(2));
  p.stride = stride;
  const int O = p.out_channels, C = p.in_channels, K = p.kernel;
  p.panels.assign(static_cast<std::size_t>(p.blocks() * p.panel_size()), 0.0f);
  p.bias.assign(static_cast<std::size_t>(p.blocks() * kTileChannels), 0.0f);
  for (int o = 0; o < O; ++o) {
    float* panel = p.panels.data() + (o / kTileChannels) * p.panel_size() + o % kTileChannels;
    for (int kh = 0; kh < K; ++kh)
      for (int kw = 0; kw < K; ++kw)
        for (int c = 0; c < C; ++c)
          panel[((kh * K + kw) * C + c) * kTileChannels] = weight[((int64_t{o} * C + c) * K + kh) * K + kw];
    p.bias[static_cast<std::size_t>(o)] = bias[o];
  }
  return p;
}

void conv_relu(const PackedConv& c, const ConvIO& io, int64_t pixel_begin, int64_t pixel_end, int block_begin,
               int block_end) {
  x86::conv_relu<x86::Avx2>(c, io, pixel_begin, pixel_end, block_begin, block_end);
}

void conv_relu_channel_sums(const PackedConv& c, const ConvIO& io, int block_begin, int block_end, float* sums) {
  x86::conv_relu_channel_sums<x86::Avx2>(c, io, block_begin, block_end, sums);
}

}  // namespace squeezenet::avx2
