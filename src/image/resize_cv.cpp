// OpenCV's cv::resize with INTER_LINEAR on 8-bit images (imgproc/src/resize.cpp, as in OpenCV 4.x without
// IPP), which is what Caffe-era pipelines ran. Its arithmetic is reproduced exactly:
//  - source coordinate (dst + 0.5) * scale - 0.5 in double, rounded to float; 11-bit weights rounded to even;
//  - horizontal taps past either edge become the edge pixel at full weight; vertical rows are clamped but
//    keep their weights;
//  - the vertical sum is OpenCV's approximation ((b0 * (h0 >> 4)) >> 16) + ((b1 * (h1 >> 4)) >> 16), + 2, >> 2;
//  - an exact 2x reduction in both directions is done by OpenCV as a 2x2 box average instead.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "image/preprocess.h"
#include "squeezenet/image.h"

namespace squeezenet {
namespace {

constexpr int kCoefBits = 11;  // INTER_RESIZE_COEF_BITS
constexpr float kCoefScale = 1 << kCoefBits;

// The index of the first source tap and the two fixed-point weights of one output coordinate.
struct LinearTap {
  int index;
  int16_t w0, w1;
};

int16_t to_coef(float weight) { return static_cast<int16_t>(std::lrint(weight * kCoefScale)); }

// OpenCV keeps the source coordinate in float after computing it in double; the rounding is part of the result.
float source_coordinate(int dst, double scale, int& index) {
  const float f = static_cast<float>((dst + 0.5) * scale - 0.5);
  index = static_cast<int>(std::floor(f));
  return f - static_cast<float>(index);
}

// Horizontal taps, with OpenCV's edge rule: left of the image (index < 0) and from the last pixel on, the
// output is the edge pixel times 2048.
std::vector<LinearTap> horizontal_taps(int in_size, int out_size, double scale) {
  std::vector<LinearTap> taps(out_size);
  for (int dx = 0; dx < out_size; ++dx) {
    int sx = 0;
    float fx = source_coordinate(dx, scale, sx);
    if (sx < 0) fx = 0, sx = 0;
    if (sx >= in_size - 1) fx = 0, sx = in_size - 1;
    taps[dx] = {sx, to_coef(1.f - fx), to_coef(fx)};
  }
  return taps;
}

// One source row filtered horizontally: 2048-scaled integers, three per output pixel.
void horizontal_row(const uint8_t* row, const std::vector<LinearTap>& taps, int in_size, int32_t* out) {
  for (std::size_t dx = 0; dx < taps.size(); ++dx) {
    const LinearTap& t = taps[dx];
    const uint8_t* p = row + 3 * t.index;
    for (int c = 0; c < 3; ++c)
      out[3 * dx + c] = t.index + 1 < in_size ? p[c] * t.w0 + p[3 + c] * t.w1 : p[c] * int32_t{1 << kCoefBits};
  }
}

uint8_t vertical_mix(int32_t h0, int32_t h1, int b0, int b1) {
  return static_cast<uint8_t>((((b0 * (h0 >> 4)) >> 16) + ((b1 * (h1 >> 4)) >> 16) + 2) >> 2);
}

Image halve(const Image& in) {
  const int w = in.width / 2, h = in.height / 2;
  Image out{w, h, std::vector<uint8_t>(3 * static_cast<std::size_t>(w) * h)};
  const std::size_t row = 3 * static_cast<std::size_t>(in.width);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const uint8_t* p = &in.rgb[2 * y * row + 6 * static_cast<std::size_t>(x) + c];
        out.rgb[3 * (static_cast<std::size_t>(y) * w + x) + c] =
            static_cast<uint8_t>((p[0] + p[3] + p[row] + p[row + 3] + 2) >> 2);
      }
  return out;
}

}  // namespace

Image resize_cv_linear(const Image& image, int width, int height) {
  check_resize_args(image, width, height, "OpenCV linear resize");
  if (width == image.width && height == image.height) return image;
  const double scale_x = 1.0 / (static_cast<double>(width) / image.width);
  const double scale_y = 1.0 / (static_cast<double>(height) / image.height);
  if (std::abs(scale_x - 2.0) < DBL_EPSILON && std::abs(scale_y - 2.0) < DBL_EPSILON) return halve(image);

  const std::vector<LinearTap> taps = horizontal_taps(image.width, width, scale_x);
  Image out{width, height, std::vector<uint8_t>(3 * static_cast<std::size_t>(width) * height)};
  // Output rows read source rows in increasing order, so two cached horizontal rows suffice.
  std::vector<int32_t> cache[2] = {std::vector<int32_t>(3 * width), std::vector<int32_t>(3 * width)};
  int cached[2] = {-1, -1};
  auto row = [&](int sy, int keep) -> int {
    for (int s = 0; s < 2; ++s)
      if (cached[s] == sy) return s;
    const int slot = keep == 0 ? 1 : 0;
    horizontal_row(&image.rgb[3 * static_cast<std::size_t>(image.width) * sy], taps, image.width, cache[slot].data());
    cached[slot] = sy;
    return slot;
  };
  for (int dy = 0; dy < height; ++dy) {
    int sy = 0;
    const float fy = source_coordinate(dy, scale_y, sy);
    const int b0 = to_coef(1.f - fy), b1 = to_coef(fy);
    const int s0 = row(std::clamp(sy, 0, image.height - 1), -1);
    const int s1 = row(std::clamp(sy + 1, 0, image.height - 1), s0);
    uint8_t* dst = &out.rgb[3 * static_cast<std::size_t>(width) * dy];
    for (int i = 0; i < 3 * width; ++i) dst[i] = vertical_mix(cache[s0][i], cache[s1][i], b0, b1);
  }
  return out;
}

}  // namespace squeezenet
