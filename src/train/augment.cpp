#include "train/augment.h"

#include <algorithm>
#include <cmath>

namespace squeezenet::train {

Window random_resized_crop_window(int width, int height, Rng& rng) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(3.0 / 4.0), log_hi = std::log(4.0 / 3.0);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(0.08, 1.0);
    const double ratio = std::exp(rng.uniform(log_lo, log_hi));
    const int w = static_cast<int>(std::nearbyint(std::sqrt(target * ratio)));
    const int h = static_cast<int>(std::nearbyint(std::sqrt(target / ratio)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int top = static_cast<int>(rng.next() % static_cast<uint64_t>(height - h + 1));
      const int left = static_cast<int>(rng.next() % static_cast<uint64_t>(width - w + 1));
      return {left, top, w, h};
    }
  }
  const double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < 3.0 / 4.0) {
    h = static_cast<int>(std::nearbyint(w / (3.0 / 4.0)));
  } else if (in_ratio > 4.0 / 3.0) {
    w = static_cast<int>(std::nearbyint(h * (4.0 / 3.0)));
  }
  w = std::clamp(w, 1, width);
  h = std::clamp(h, 1, height);
  return {(width - w) / 2, (height - h) / 2, w, h};
}

Image random_resized_crop_flip(const Image& image, int size, Rng& rng) {
  check_image(image, "random resized crop");
  const Window win = random_resized_crop_window(image.width, image.height, rng);
  check_window(win, image.width, image.height);
  Image crop{win.width, win.height, std::vector<uint8_t>(3 * static_cast<std::size_t>(win.width) * win.height)};
  const std::size_t row = 3 * static_cast<std::size_t>(win.width);
  for (int y = 0; y < win.height; ++y)
    std::copy_n(&image.rgb[3 * ((static_cast<std::size_t>(win.top) + y) * image.width + win.left)], row,
                &crop.rgb[row * y]);
  Image out = resize_pil_bilinear(crop, size, size);
  if (rng.uniform() < 0.5)
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size / 2; ++x)
        for (int c = 0; c < 3; ++c)
          std::swap(out.rgb[3 * (static_cast<std::size_t>(y) * size + x) + c],
                    out.rgb[3 * (static_cast<std::size_t>(y) * size + size - 1 - x) + c]);
  return out;
}

int crop_size(Preset preset) { return preset == Preset::caffe ? 227 : 224; }

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b) {
  // splitmix64 finaliser over the three words in turn.
  uint64_t z = seed;
  for (uint64_t w : {a, b}) {
    z += 0x9E3779B97F4A7C15ull ^ w;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
  }
  return z;
}

}  // namespace squeezenet::train
