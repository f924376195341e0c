// The reference bf16 Winograd. Per tile: B^T d B of the fp32 frame in fp32 (winograd_impl.h's transforms, in
// their order, no fused multiply-adds), each value rounded to bf16; per output channel and position, the bias at
// position (1, 1) (0 elsewhere) plus the products with the bf16 weights (G k G^T in double, then fp32, then
// bf16: pack_winograd), added in fp32 channel by channel; then A^T m A in fp32, and ReLU (then rounded to bf16
// where the output is bf16, ConvIO::out_bf16).
#include <algorithm>
#include <vector>

#include "kernels/x86/bf16.h"
#include "kernels/x86/winograd_impl.h"

namespace squeezenet::bf16 {

namespace {

template <class W>
void winograd(const avx2::PackedWinograd& p, const avx2::ConvIO& io, int64_t tile_begin, int64_t tile_end) {
  constexpr int m = W::m, n = W::n, nn = n * n;
  const int C = p.in_channels;
  const int64_t tiles_w = (io.out_w + m - 1) / m;
  std::vector<float> v(static_cast<std::size_t>(nn * C));  // [position][channel], rounded
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const int64_t th = t / tiles_w * m, tw = t % tiles_w * m;  // the tile's top-left output
    const float* base = io.in + th * io.in_row + tw * io.in_pixel;
    for (int c = 0; c < C; ++c)
      x86::input_2d<W, float>(
          [&](int r, int s) { return base[r * io.in_row + s * io.in_pixel + c]; },
          [&](int x, float value) { v[static_cast<std::size_t>(x * C + c)] = widen(round(value)); });
    for (int o = 0; o < p.out_channels; ++o) {
      float products[nn];
      for (int x = 0; x < nn; ++x) {
        const uint16_t* w = p.bf16_panels.data() + (int64_t{o / avx2::kTileChannels} * nn + x) * p.bf16_panel_size() +
                            o % avx2::kTileChannels * 2;
        float sum = x == n + 1 ? p.bias[static_cast<std::size_t>(o)] : 0.0f;
        for (int c = 0; c < C; ++c)
          sum += v[static_cast<std::size_t>(x * C + c)] * widen(w[c / 2 * 2 * avx2::kTileChannels + c % 2]);
        products[x] = sum;
      }
      x86::output_2d<W, float>([&](int x) { return products[x]; },
                               [&](int i, int j, float y) {
                                 if (th + i < io.out_h && tw + j < io.out_w)
                                   store(io, (th + i) * io.out_row + (tw + j) * io.out_pixel + o, std::max(y, 0.0f));
                               });
    }
  }
}

}  // namespace

void winograd_relu(const avx2::PackedWinograd& p, const avx2::ConvIO& io, int64_t tile_begin, int64_t tile_end,
                   float* /*scratch*/) {
  if (p.tile == 2)
    winograd<x86::F2>(p, io, tile_begin, tile_end);
  else
    winograd<x86::F4>(p, io, tile_begin, tile_end);
}

}  // namespace squeezenet::bf16
