#include <string>

#include "kernels/x86/int8_table.h"
#include "kernels/x86/stem_windows.h"
#include "squeezenet/error.h"

namespace squeezenet::x86::int8 {

QuantizedConv stem_as_1x1(const QuantizedConv& conv) {
  const Conv2dSpec& s = conv.spec;
  if (s.in_channels != kImageChannels || s.padding != 0 || s.kernel > kMaxStemKernel)
    throw Error(conv.name + ": the window layout needs a 3-channel input without padding, kernel up to " +
                std::to_string(kMaxStemKernel));
  QuantizedConv w = conv;
  w.spec = {s.kernel * s.kernel * s.in_channels, s.out_channels, 1, 1, 0};
  stem_windows::reorder_weights(conv.weight.data(), s.out_channels, s.kernel, w.weight.data());
  return w;
}

void stack_window_columns(const uint8_t* top, int64_t image_row, int kernel, int64_t x_begin, int64_t x_end,
                          uint8_t* d) {
  stem_windows::stack_columns<4, 4>(top, image_row, kernel, x_begin, x_end, d);
}

void stack_windows(const uint8_t* image, int64_t width, int kernel, int stride, uint8_t* out, int64_t out_row,
                   int64_t first_row, int64_t last_row) {
  stem_windows::stack_rows<4, 4>(image, width, kernel, stride, out, out_row, first_row, last_row);
}

}  // namespace squeezenet::x86::int8
