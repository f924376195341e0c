#include <algorithm>
#include <cmath>

#include "squeezenet/error.h"
#include "squeezenet/visualize.h"

namespace squeezenet {

namespace {
// The "jet" ramp: blue, cyan, yellow, red as t goes 0 -> 1.
void ramp(float t, float rgb[3]) {
  auto clamp01 = [](float v) { return std::clamp(v, 0.0f, 1.0f); };
  rgb[0] = clamp01(1.5f - std::fabs(4.0f * t - 3.0f));
  rgb[1] = clamp01(1.5f - std::fabs(4.0f * t - 2.0f));
  rgb[2] = clamp01(1.5f - std::fabs(4.0f * t - 1.0f));
}

float sample(const Tensor& map, float y, float x) {
  const int64_t h = map.dim(0), w = map.dim(1);
  y = std::clamp(y, 0.0f, static_cast<float>(h - 1));
  x = std::clamp(x, 0.0f, static_cast<float>(w - 1));
  const int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x);
  const int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
  const float fy = y - static_cast<float>(y0), fx = x - static_cast<float>(x0);
  const float top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx;
  const float bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx;
  return top * (1 - fy) + bottom * fy;
}
}  // namespace

Image overlay_heatmap(const Image& image, const Tensor& map, const CropRegion& region, float opacity) {
  if (map.ndim() != 2 || map.numel() == 0) throw Error("heat map must be a non-empty [h, w] tensor");
  float peak = 0.0f;
  for (int64_t i = 0; i < map.numel(); ++i) peak = std::max(peak, map[i]);
  Image out = image;
  const double sy = static_cast<double>(map.dim(0)) / region.height;
  const double sx = static_cast<double>(map.dim(1)) / region.width;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      // Pixel centres onto map-cell centres, so the map is not shifted by half a cell.
      const double my = (y + 0.5 - region.top) * sy - 0.5, mx = (x + 0.5 - region.left) * sx - 0.5;
      uint8_t* px = &out.rgb[(static_cast<std::size_t>(y) * image.width + x) * 3];
      if (my < -0.5 || mx < -0.5 || my > static_cast<double>(map.dim(0)) - 0.5 ||
          mx > static_cast<double>(map.dim(1)) - 0.5) {
        for (int c = 0; c < 3; ++c) px[c] = static_cast<uint8_t>(px[c] / 2);  // not seen by the network
        continue;
      }
      if (peak <= 0.0f) continue;  // no evidence anywhere: nothing to draw
      const float t = sample(map, static_cast<float>(my), static_cast<float>(mx)) / peak;
      float rgb[3];
      ramp(t, rgb);
      const float a = opacity * std::sqrt(std::clamp(t, 0.0f, 1.0f));
      for (int c = 0; c < 3; ++c) px[c] = static_cast<uint8_t>(std::lround((1 - a) * px[c] + a * 255.0f * rgb[c]));
    }
  return out;
}

}  // namespace squeezenet
