// Pillow's ImagingResample (libImaging/Resample.c) with the bilinear filter, for 8-bit RGB. Every step
// keeps Pillow's arithmetic: double-precision taps normalised per output pixel, then rounded to 22-bit fixed
// point; a horizontal pass over just the source rows the vertical pass will read, then the vertical pass;
// each sum starts at one half and is shifted down and clipped. The result equals Image.resize bit for bit.
//
// Each output pixel's taps depend only on its own coordinate, so a window of the resized image can be
// computed alone and equals the same window of the full result: preprocessing resizes only its crop.
#include <algorithm>
#include <cmath>

#include "image/preprocess.h"
#include "squeezenet/image.h"

namespace squeezenet {
namespace {

// 8 bits of result, 2 of headroom for filters with negative lobes, the rest for the weights.
constexpr int kPrecisionBits = 32 - 8 - 2;

// For each output pixel: the first source pixel, how many follow, and `ksize` fixed-point weights.
struct Taps {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weights;
};

double bilinear(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc, for output pixels [begin, begin + n) of `out_size`.
// When shrinking, the filter stretches by the scale (this is the antialiasing), so each output pixel averages
// every source pixel it covers.
Taps bilinear_taps(int in_size, int out_size, int begin, int n) {
  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(n);
  t.count.resize(n);
  t.weights.assign(static_cast<std::size_t>(n) * t.ksize, 0);
  std::vector<double> k(t.ksize);
  for (int i = 0; i < n; ++i) {
    const int xx = begin + i;
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = bilinear((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    int32_t* w = &t.weights[static_cast<std::size_t>(i) * t.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? k[x] / ww : k[x];
      w[x] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    t.first[i] = xmin;
    t.count[i] = xmax;
  }
  return t;
}

uint8_t clip8(int32_t sum) { return static_cast<uint8_t>(std::clamp(sum >> kPrecisionBits, 0, 255)); }

// One RGB output pixel from `count` taps `step` bytes apart.
void filter_pixel(const uint8_t* in, std::ptrdiff_t step, int count, const int32_t* w, uint8_t* out) {
  for (int c = 0; c < 3; ++c) {
    int32_t sum = 1 << (kPrecisionBits - 1);
    for (int j = 0; j < count; ++j) sum += in[j * step + c] * w[j];
    out[c] = clip8(sum);
  }
}

}  // namespace

Image resize_pil_bilinear_window(const Image& image, int width, int height, const Window& window) {
  check_resize_args(image, width, height, "PIL bilinear resize");
  check_window(window, width, height);
  const Taps vert = bilinear_taps(image.height, height, window.top, window.height);
  const uint8_t* src = image.rgb.data();
  std::ptrdiff_t src_row = 3 * static_cast<std::ptrdiff_t>(image.width);
  int src_left = window.left;  // the column of `src` that output column window.left reads
  int row_shift = 0;           // the source row that vert's indices count from

  // Pillow skips a pass whose size does not change. Its taps would be the identity (one weight of 1.0), so
  // skipping only saves time; the vertical pass is always run for simplicity.
  std::vector<uint8_t> temp;
  if (width != image.width) {
    const Taps horiz = bilinear_taps(image.width, width, window.left, window.width);
    const int y_first = vert.first.front();
    const int y_last = vert.first.back() + vert.count.back();
    temp.resize(3 * static_cast<std::size_t>(window.width) * (y_last - y_first));
    for (int y = y_first; y < y_last; ++y) {
      const uint8_t* in_row = src + y * src_row;
      uint8_t* out_row = &temp[3 * static_cast<std::size_t>(window.width) * (y - y_first)];
      for (int x = 0; x < window.width; ++x)
        filter_pixel(in_row + 3 * horiz.first[x], 3, horiz.count[x], &horiz.weights[x * horiz.ksize], out_row + 3 * x);
    }
    src = temp.data();
    src_row = 3 * static_cast<std::ptrdiff_t>(window.width);
    src_left = 0;
    row_shift = y_first;
  }

  Image out{window.width, window.height, {}};
  out.rgb.resize(3 * static_cast<std::size_t>(window.width) * window.height);
  for (int y = 0; y < window.height; ++y) {
    const uint8_t* in_col = src + (vert.first[y] - row_shift) * src_row + 3 * src_left;
    uint8_t* out_row = &out.rgb[3 * static_cast<std::size_t>(y) * window.width];
    for (int x = 0; x < window.width; ++x)
      filter_pixel(in_col + 3 * x, src_row, vert.count[y], &vert.weights[y * vert.ksize], out_row + 3 * x);
  }
  return out;
}

Image resize_pil_bilinear(const Image& image, int width, int height) {
  return resize_pil_bilinear_window(image, width, height, Window{0, 0, width, height});
}

}  // namespace squeezenet
