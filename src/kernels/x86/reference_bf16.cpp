// The reference bf16 kernels, and their family: these convs, with the AVX2 pools and transposes around them.
#include <algorithm>

#include "kernels/x86/bf16.h"
#include "kernels/x86/kernel_table.h"
#include "squeezenet/model.h"

namespace squeezenet::bf16 {

namespace {

using avx2::kTileChannels;

// relu(conv + bias) at one output pixel and channel: per kernel row, its run in pairs, each pair's two
// products added in order.
// Input value i of the conv's input, rounded: fp32 input rounded here, bf16 input (ConvIO::in_bf16) as it is.
uint16_t input(const avx2::ConvIO& io, int64_t i) { return io.in_bf16 ? io.in_bf16[i] : round(io.in[i]); }

float output(const avx2::PackedConv& c, const avx2::ConvIO& io, int64_t pixel, int o) {
  const int64_t oh = pixel / io.out_w, ow = pixel % io.out_w;
  const int64_t in = oh * c.stride * io.in_row + ow * c.stride * io.in_pixel;
  const uint16_t* w = c.bf16_panels.data() + (o / kTileChannels) * c.bf16_panel_size() + (o % kTileChannels) * 2;
  const int run = c.run();
  float sum = c.bias[static_cast<std::size_t>(o)];
  for (int s = 0; s < c.kernel; ++s)
    for (int k = 0; k < run; k += 2, w += 2 * kTileChannels) {
      const int64_t x = in + s * io.in_row + k;
      sum += widen(input(io, x)) * widen(w[0]);
      if (k + 1 < run) sum += widen(input(io, x + 1)) * widen(w[1]);
    }
  return std::max(sum, 0.0f);
}

}  // namespace

void store(const avx2::ConvIO& io, int64_t at, float value) {
  if (io.out_bf16)
    io.out_bf16[at] = round(value);
  else
    io.out[at] = value;
}

void conv_relu(const avx2::PackedConv& c, const avx2::ConvIO& io, int64_t pixel_begin, int64_t pixel_end,
               int block_begin, int block_end) {
  const int o_end = std::min(c.out_channels, block_end * kTileChannels);
  for (int64_t p = pixel_begin; p < pixel_end; ++p)
    for (int o = block_begin * kTileChannels; o < o_end; ++o)
      store(io, p / io.out_w * io.out_row + p % io.out_w * io.out_pixel + o, output(c, io, p, o));
}

void conv_relu_channel_sums(const avx2::PackedConv& c, const avx2::ConvIO& io, int block_begin, int block_end,
                            float* sums) {
  const int o_end = std::min(c.out_channels, block_end * kTileChannels);
  for (int o = block_begin * kTileChannels; o < o_end; ++o) {
    float sum = 0.0f;
    for (int64_t p = 0; p < io.pixels(); ++p) sum += output(c, io, p, o);
    sums[o] = sum;
  }
}

void max_pool(const uint16_t* in, int h, int w, int c, uint16_t* out, int row_begin, int row_end) {
  const int ow_count = static_cast<int>(pool_output_size(w, 3, 2));
  for (int oh = row_begin; oh < row_end; ++oh)
    for (int ow = 0; ow < ow_count; ++ow)
      for (int ch = 0; ch < c; ++ch) {
        uint16_t m = 0;
        for (int y = 2 * oh; y < std::min(h, 2 * oh + 3); ++y)
          for (int x = 2 * ow; x < std::min(w, 2 * ow + 3); ++x)
            m = std::max(m, in[(int64_t{y} * w + x) * c + ch]);
        out[(int64_t{oh} * ow_count + ow) * c + ch] = m;
      }
}

void round_span(const float* in, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = round(in[i]);
}

}  // namespace squeezenet::bf16

namespace squeezenet::x86 {

const KernelTable reference_bf16_kernels{"reference",
                                         "reference-bf16",
                                         Precision::bf16,
                                         avx2::kTileChannels,
                                         [](int) { return 1; },
                                         bf16::pack,
                                         bf16::pack_winograd,
                                         bf16::conv_relu,
                                         bf16::conv_relu_channel_sums,
                                         bf16::winograd_relu,
                                         avx2::max_pool_3x3s2_ceil,
                                         avx2::max_pool_3x3s2_ceil_no_nan,
                                         avx2::rgb_to_nhwc,
                                         &avx2_kernels,
                                         "FMA",
                                         avx2::fma_peak_gflops,
                                         bf16::max_pool,
                                         bf16::round_span};

}  // namespace squeezenet::x86
