#pragma once
// Implicit-GEMM convolution over one ISA's register tile: bias in the accumulators, ReLU on the way out.
// Included by conv_avx2.cpp, kernels_avx512.cpp and kernels_avx512bf16.cpp, each instantiating it for its own T.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/x86/kernels_avx2.h"
#include "kernels/x86/microkernel.h"

namespace squeezenet::x86 {

using avx2::ConvIO;
using avx2::kTileChannels;
using avx2::PackedConv;

// Tiles are grouped so that a group's input rows stay in L1/L2 while every channel block's panel sweeps them.
// In and Out: float, or uint16_t for the bf16 activations a bf16 family reads and writes (ConvIO::in_bf16).
template <class T, class In = float, class Out = float>
struct PixelGroup {
  static constexpr int capacity = 48;
  static_assert(capacity % T::split_pixels == 0);
  const In* in[capacity];
  Out* out[capacity];
  int count = 0;

  void locate(const PackedConv& c, const ConvIO& io, int64_t begin, int64_t end) {
    const In* in0;
    if constexpr (std::is_same_v<In, float>) in0 = io.in; else in0 = io.in_bf16;
    Out* out0;
    if constexpr (std::is_same_v<Out, float>) out0 = io.out; else out0 = io.out_bf16;
    count = static_cast<int>(end - begin);
    int64_t oh = begin / io.out_w, ow = begin % io.out_w;
    for (int i = 0; i < count; ++i) {
      in[i] = in0 + oh * c.stride * io.in_row + ow * c.stride * io.in_pixel;
      out[i] = out0 + oh * io.out_row + ow * io.out_pixel;
      if (++ow == io.out_w) ow = 0, ++oh;
    }
  }
};

// Calls f(PixelGroup<T, In, Out>{}) with the element types io names: bf16 ones only where T reads them.
template <class T, class F>
inline void with_elements(const ConvIO& io, F&& f) {
  if constexpr (requires { T::bf16_activations; }) {
    if (io.in_bf16 && io.out_bf16) return f(PixelGroup<T, uint16_t, uint16_t>{});
    if (io.in_bf16) return f(PixelGroup<T, uint16_t, float>{});
    if (io.out_bf16) return f(PixelGroup<T, float, uint16_t>{});
  }
  f(PixelGroup<T>{});
}

inline detail::Reduction conv_reduction(const PackedConv& c, const ConvIO& io) {
  return {c.kernel, io.in_row, c.kernel * c.in_channels};
}

// The register tile of M pixels (in[j] under pixel j's first tap) for blocks [b, b + NB), bias included: over the
// fp32 panels, or over the family's own weight format where T brings its own tile (isa_avx512bf16.h).
template <class T, int M, int NB, class In>
inline detail::Acc<T, M, NB> conv_tile(const PackedConv& c, const In* const* in, int b, const detail::Reduction& r) {
  if constexpr (requires { T::template conv_tile<M, NB>(c, in, b, r); })
    return T::template conv_tile<M, NB>(c, in, b, r);
  else
    return detail::gemm_tile<T, M, NB>(in, c.panels.data() + b * c.panel_size(), c.panel_size(),
                                       c.bias.data() + b * kTileChannels, r);
}

template <class T>
void conv_relu(const PackedConv& c, const ConvIO& io, int64_t pixel_begin, int64_t pixel_end, int block_begin,
               int block_end) {
  const detail::Reduction r = conv_reduction(c, io);
  with_elements<T>(io, [&](auto g) {
    for (int64_t g0 = pixel_begin; g0 < pixel_end; g0 += g.capacity) {
      g.locate(c, io, g0, std::min(pixel_end, g0 + g.capacity));
      detail::for_each_block_group<T>(block_begin, block_end, [&](auto nb, int b) {
        constexpr int NB = decltype(nb)::value;
        const int valid = std::min(NB * kTileChannels, c.out_channels - b * kTileChannels);
        const int64_t off = int64_t{b} * kTileChannels;
        detail::for_each_tile<T, NB>(g.count, [&](auto m, int i) {
          auto a = conv_tile<T, decltype(m)::value, NB>(c, g.in + i, b, r);
          detail::relu(a);
          detail::store(a, g.out + i, off, valid);
        });
      });
    }
  });
}

template <class T>
void conv_relu_channel_sums(const PackedConv& c, const ConvIO& io, int block_begin, int block_end, float* sums) {
  const detail::Reduction r = conv_reduction(c, io);
  const int64_t pixels = io.pixels();
  with_elements<T>(io, [&](auto g) {
    detail::for_each_block_group<T>(block_begin, block_end, [&](auto nb, int b) {
      constexpr int NB = decltype(nb)::value, Q = NB * kTileChannels / T::lanes;
      typename T::Vec s[Q];
      for (auto& v : s) v = T::zero();
      for (int64_t g0 = 0; g0 < pixels; g0 += g.capacity) {
        g.locate(c, io, g0, std::min(pixels, g0 + g.capacity));
        detail::for_each_tile<T, NB>(g.count, [&](auto m, int i) {
          auto a = conv_tile<T, decltype(m)::value, NB>(c, g.in + i, b, r);
          detail::relu(a);
          for (const auto& row : a.v)
            for (int q = 0; q < Q; ++q) s[q] = s[q] + row[q];
        });
      }
      alignas(64) float total[NB * kTileChannels];
      for (int q = 0; q < Q; ++q) T::store(total + q * T::lanes, s[q]);
      const int valid = std::min(NB * kTileChannels, c.out_channels - b * kTileChannels);
      std::copy(total, total + valid, sums + int64_t{b} * kTileChannels);
    });
  });
}

}  // namespace squeezenet::x86
