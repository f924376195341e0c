#pragma once
// The kept fp32 conv, written once over a vector type V (lanes, load, broadcast, fma, store) and P pixels at a
// time; included by the AVX2 and AVX-512 files. Every accumulator is one output's fma chain in tap order.
#include <algorithm>
#include <cstring>

#include "kernels/x86/kept_fp32.h"

namespace squeezenet::x86::kept {

template <class V, int P>
void conv_impl(const PackedConv& k, const IO& io, int64_t first, int64_t last) {
  constexpr int R = kBlock / V::lanes;
  const int64_t C = k.in_channels, K = k.kernel, S = k.stride, plane = io.image_height * io.image_width;
  for (int64_t b = 0; b < k.blocks; ++b) {
    const float* wb = k.weight.data() + b * K * K * C * kBlock;
    const int outs = std::min<int>(kBlock, k.out_channels - static_cast<int>(b) * kBlock);
    for (int64_t i = first; i < last; i += P) {
      const int n = static_cast<int>(std::min<int64_t>(P, last - i));
      int64_t base[P];  // each pixel's window, top-left
      for (int j = 0; j < P; ++j) {
        const int64_t p = i + std::min(j, n - 1), y = p / io.out_width, x = p % io.out_width;
        base[j] = io.image ? y * S * io.image_width + x * S : y * S * io.in_row + x * S * io.in_pixel;
      }
      typename V::type acc[P][R];
      for (int j = 0; j < P; ++j)
        for (int r = 0; r < R; ++r) acc[j][r] = V::load(k.bias.data() + b * kBlock + r * V::lanes);
      const float* w = wb;
      for (int64_t ky = 0; ky < K; ++ky)
        for (int64_t kx = 0; kx < K; ++kx) {
          const int64_t at = io.image ? ky * io.image_width + kx : ky * io.in_row + kx * io.in_pixel;
          for (int64_t c = 0; c < C; ++c, w += kBlock) {
            typename V::type wr[R];
            for (int r = 0; r < R; ++r) wr[r] = V::load(w + r * V::lanes);
            for (int j = 0; j < P; ++j) {
              const float v = io.image ? io.image[c * plane + base[j] + at] : static_cast<float>(io.in[base[j] + at + c]);
              const typename V::type x = V::broadcast(v);
              for (int r = 0; r < R; ++r) acc[j][r] = V::fma(x, wr[r], acc[j][r]);
            }
          }
        }
      // ReLU, then u8 as ref::quantize_kept: scale, clamp to 255, round half to even (the conversion's mode).
      const typename V::type inverse = V::broadcast(k.inverse_output_scale), top = V::broadcast(255.0f);
      for (int j = 0; j < n; ++j) {
        const int64_t p = i + j, at = p / io.out_width * io.out_row + p % io.out_width * io.out_pixel + b * kBlock;
        if (k.inverse_output_scale == 0.0f) {
          alignas(64) float y[kBlock];
          for (int r = 0; r < R; ++r) V::store(y + r * V::lanes, V::relu(acc[j][r]));
          std::memcpy(static_cast<float*>(io.out) + at, y, static_cast<std::size_t>(outs) * sizeof(float));
        } else {
          alignas(64) uint8_t y[kBlock];
          for (int r = 0; r < R; ++r) V::store_u8(y + r * V::lanes, V::min(V::mul(V::relu(acc[j][r]), inverse), top));
          std::memcpy(static_cast<uint8_t*>(io.out) + at, y, static_cast<std::size_t>(outs));
        }
      }
    }
  }
}

}  // namespace squeezenet::x86::kept
