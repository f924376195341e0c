#include <cstring>
#include <string>

#include "kernels/x86/int8_table.h"
#include "squeezenet/error.h"

namespace squeezenet::x86::int8 {

QuantizedConv stem_as_1x1(const QuantizedConv& conv) {
  const Conv2dSpec& s = conv.spec;
  if (s.in_channels != kImageChannels || s.padding != 0 || s.kernel > kMaxStemKernel)
    throw Error(conv.name + ": the window layout needs a 3-channel input without padding, kernel up to " +
                std::to_string(kMaxStemKernel));
  const int K = s.kernel, C = s.in_channels;
  QuantizedConv w = conv;
  w.spec = {K * K * C, s.out_channels, 1, 1, 0};
  for (int o = 0; o < s.out_channels; ++o)
    for (int c = 0; c < C; ++c)
      for (int ky = 0; ky < K; ++ky)
        for (int kx = 0; kx < K; ++kx)
          w.weight[static_cast<std::size_t>((o * K + kx) * K + ky) * C + c] =
              conv.weight[static_cast<std::size_t>(((o * C + c) * K + ky) * K + kx)];
  return w;
}

void stack_window_columns(const uint8_t* top, int64_t image_row, int kernel, int64_t x_begin, int64_t x_end,
                          uint8_t* d) {
  for (int64_t x = x_begin; x < x_end; ++x)
    for (int ky = 0; ky < kernel; ++ky, d += kImageChannels) std::memcpy(d, top + ky * image_row + 4 * x, 4);
}

void stack_windows(const uint8_t* image, int64_t width, int kernel, int stride, uint8_t* out, int64_t out_row,
                   int64_t first_row, int64_t last_row) {
  for (int64_t oy = first_row; oy < last_row; ++oy)
    stack_window_columns(image + oy * stride * 4 * width, 4 * width, kernel, 0, width, out + oy * out_row);
}

}  // namespace squeezenet::x86::int8
