#pragma once
// The stem (3 input channels, no padding) as a 1x1 conv over each output pixel's whole K x K window laid out as
// one run of K * K * 3 values, so that the dot product spends no lanes on a kernel row's odd length or a
// pixel's empty 4th channel. The window goes column by column, [kx][ky][c], so that one output row's windows
// lie over each other: stacked row oy holds, for every image column x, the column's K pixels from image row
// oy * stride on, 3 values each, and output pixel (oy, ox)'s window starts at column ox * stride (a 1x1 conv
// reads it with in_row = the stacked row's length, in_pixel = stride * K * 3). The int8 families stack u8
// pixels of 4 bytes (int8_stem.cpp), the bf16 ones fp32 pixels of 3 floats (bf16_stem.cpp).
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace squeezenet::x86::stem_windows {

constexpr int kImageChannels = 3, kMaxKernel = 7;

// A [O, 3, K, K] stem's weights, as torchvision orders them, to the 1x1 conv's [O, K * K * 3].
template <class T>
void reorder_weights(const T* from, int out_channels, int kernel, T* to) {
  const int K = kernel, C = kImageChannels;
  for (int o = 0; o < out_channels; ++o)
    for (int c = 0; c < C; ++c)
      for (int ky = 0; ky < K; ++ky)
        for (int kx = 0; kx < K; ++kx)
          to[static_cast<std::size_t>((o * K + kx) * K + ky) * C + c] =
              from[static_cast<std::size_t>(((o * C + c) * K + ky) * K + kx)];
}

// Columns [x_begin, x_end) of one stacked row to d (column x_begin's place), from `top`, the row's first image
// row, `image_row` values long, its pixels `Pixel` values apart: `Copied` values of each pixel, so that with
// Copied > 3 each copy's tail is overwritten by the next pixel's first values, the last one spilling past.
template <int Pixel, int Copied, class T>
void stack_columns(const T* top, int64_t image_row, int kernel, int64_t x_begin, int64_t x_end, T* d) {
  for (int64_t x = x_begin; x < x_end; ++x)
    for (int ky = 0; ky < kernel; ++ky, d += kImageChannels)
      std::memcpy(d, top + ky * image_row + Pixel * x, Copied * sizeof(T));
}

// Stacked rows [first_row, last_row), `out_row` values apart, of an NHWC image `width` pixels wide.
template <int Pixel, int Copied, class T>
void stack_rows(const T* image, int64_t width, int kernel, int stride, T* out, int64_t out_row, int64_t first_row,
                int64_t last_row) {
  for (int64_t oy = first_row; oy < last_row; ++oy)
    stack_columns<Pixel, Copied>(image + oy * stride * Pixel * width, Pixel * width, kernel, 0, width,
                                 out + oy * out_row);
}

}  // namespace squeezenet::x86::stem_windows
