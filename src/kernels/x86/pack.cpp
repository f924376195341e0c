// The weight packing every x86 family shares: plain code, built like the rest of the library, so that nothing
// it instantiates (strings, errors) can reach the portable code compiled for AVX2 or AVX-512.
#include "kernels/x86/kernels_avx2.h"
#include "kernels/x86/winograd_impl.h"
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

namespace {

template <class W>
PackedWinograd pack(const Tensor& weight, const Tensor& bias) {
  constexpr int n = W::n, nn = n * n;
  PackedWinograd p;
  p.tile = W::m;
  p.out_channels = static_cast<int>(weight.dim(0));
  p.in_channels = static_cast<int>(weight.dim(1));
  const int C = p.in_channels;
  p.panels.assign(static_cast<std::size_t>(int64_t{p.blocks()} * nn * C * kTileChannels), 0.0f);
  p.bias.assign(static_cast<std::size_t>(p.blocks() * kTileChannels), 0.0f);
  for (int o = 0; o < p.out_channels; ++o) {
    p.bias[static_cast<std::size_t>(o)] = bias[o];
    for (int c = 0; c < C; ++c) {
      const float* k = weight.data() + (int64_t{o} * C + c) * 9;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          double u = 0.0;  // (G k G^T)[i][j]
          for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) u += W::g[i][a] * k[a * 3 + b] * W::g[j][b];
          const int64_t x = i * n + j;
          p.panels[static_cast<std::size_t>(((int64_t{o / kTileChannels} * nn + x) * C + c) * kTileChannels +
                                            o % kTileChannels)] = static_cast<float>(u);
        }
    }
  }
  return p;
}

}  // namespace

PackedWinograd pack_winograd(const Tensor& weight, const Tensor& bias, int tile) {
  if (weight.ndim() != 4 || weight.dim(2) != 3 || weight.dim(3) != 3 || bias.ndim() != 1 ||
      bias.dim(0) != weight.dim(0))
    throw Error("pack_winograd: weight " + shape_str(weight.shape()) + " and bias " + shape_str(bias.shape()) +
                " are not a 3x3 conv's");
  if (tile == 2) return pack<x86::F2>(weight, bias);
  if (tile == 4) return pack<x86::F4>(weight, bias);
  throw Error("pack_winograd: tile must be 2 or 4, got " + std::to_string(tile));
}

int64_t winograd_tiles(int tile, int out_h, int out_w) {
  return int64_t{(out_h + tile - 1) / tile} * ((out_w + tile - 1) / tile);
}

int64_t winograd_scratch_floats(const PackedWinograd& p) {
  const int64_t nn = int64_t{p.tile + 2} * (p.tile + 2);
  return nn * kWinogradBlockTiles * (p.in_channels + kMaxTileBlocks * kTileChannels);
}

}  // namespace squeezenet::avx2
