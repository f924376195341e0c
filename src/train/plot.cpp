#include "train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace squeezenet::train {
namespace {

constexpr int kPanel = 400, kHeight = 300, kMargin = 20;
struct Rgb {
  uint8_t r, g, b;
};
constexpr Rgb kAxis{120, 120, 120}, kGrid{225, 225, 225}, kTrain{31, 119, 180}, kVal{255, 127, 14};

void put(Image& im, int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= im.width || y >= im.height) return;
  uint8_t* p = &im.rgb[3 * (static_cast<std::size_t>(y) * im.width + x)];
  p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

// Bresenham, two pixels thick.
void line(Image& im, int x0, int y0, int x1, int y1, Rgb c) {
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  for (int err = dx + dy;;) {
    put(im, x0, y0, c), put(im, x0 + 1, y0, c), put(im, x0, y0 + 1, c);
    if (x0 == x1 && y0 == y1) return;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}

// One panel at horizontal offset `left`, y from `lo` (bottom) to `hi` (top), with grid lines at quarters.
void panel(Image& im, int left, const std::vector<double>& a, const std::vector<double>& b, double lo, double hi) {
  const int x0 = left + kMargin, x1 = left + kPanel - kMargin, y0 = kHeight - kMargin, y1 = kMargin;
  for (int q = 1; q <= 4; ++q) {
    const int y = y0 + (y1 - y0) * q / 4;
    for (int x = x0; x <= x1; ++x) put(im, x, y, kGrid);
  }
  line(im, x0, y0, x1, y0, kAxis);
  line(im, x0, y0, x0, y1, kAxis);
  const auto draw = [&](const std::vector<double>& v, Rgb c) {
    const std::size_t n = v.size();
    const auto px = [&](std::size_t i) { return n < 2 ? x0 : x0 + static_cast<int>((x1 - x0) * i / (n - 1)); };
    const auto py = [&](double value) {
      const double t = hi > lo ? std::clamp((value - lo) / (hi - lo), 0.0, 1.0) : 0.0;
      return y0 + static_cast<int>(std::lround((y1 - y0) * t));
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(v[i])) continue;
      if (i + 1 < n && std::isfinite(v[i + 1])) line(im, px(i), py(v[i]), px(i + 1), py(v[i + 1]), c);
      for (int d = -2; d <= 2; ++d) line(im, px(i) + d, py(v[i]) - 2, px(i) + d, py(v[i]) + 2, c);
    }
  };
  draw(a, kTrain);
  draw(b, kVal);
}

}  // namespace

Image plot_curves(const Curves& c) {
  Image im{2 * kPanel, kHeight, std::vector<uint8_t>(3 * 2 * kPanel * kHeight, 255)};
  double top = 0.0;
  for (const auto* v : {&c.train_loss, &c.val_loss})
    for (double x : *v)
      if (std::isfinite(x)) top = std::max(top, x);
  panel(im, 0, c.train_loss, c.val_loss, 0.0, top > 0.0 ? top * 1.05 : 1.0);
  panel(im, kPanel, c.train_acc, c.val_acc, 0.0, 1.0);
  return im;
}

}  // namespace squeezenet::train
