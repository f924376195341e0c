#include "image/preprocess.h"

#include <algorithm>
#include <cmath>

#include "squeezenet/error.h"

namespace squeezenet {
namespace {

constexpr int kResize = 256;
constexpr int kTorchvisionCrop = 224;
// Caffe's transformer crops at (256 - 227) / 2 = 14 (integer division); torchvision's rule gives the same
// here (round(14.5) = 14, half to even), so center_crop serves both.
constexpr int kCaffeCrop = 227;

std::string size_str(int width, int height) { return std::to_string(width) + "x" + std::to_string(height); }

// PIL resize of the shorter side to 256, then the centre crop; only the crop is ever computed.
Image torchvision_crop(const Image& image) {
  check_image(image, "torchvision preprocessing");
  const auto [width, height] = shorter_side_resize(image.width, image.height, kResize);
  const Window crop{center_crop_offset(width, kTorchvisionCrop), center_crop_offset(height, kTorchvisionCrop),
                    kTorchvisionCrop, kTorchvisionCrop};
  return resize_pil_bilinear_window(image, width, height, crop);
}

}  // namespace

void check_image(const Image& image, const char* what) {
  if (image.width < 1 || image.height < 1 ||
      image.rgb.size() != 3 * static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height))
    throw Error(std::string(what) + ": the input is not a " + size_str(image.width, image.height) + " RGB image (" +
                std::to_string(image.rgb.size()) + " bytes)");
}

void check_resize_args(const Image& image, int width, int height, const char* what) {
  check_image(image, what);
  // 2^24 keeps Pillow's float box coordinates exact; no real resize comes near it.
  if (width < 1 || height < 1 || width > (1 << 24) || height > (1 << 24))
    throw Error(std::string(what) + ": cannot make a " + size_str(width, height) + " image");
}

void check_window(const Window& window, int width, int height) {
  if (window.width < 1 || window.height < 1 || window.left < 0 || window.top < 0 ||
      window.left > width - window.width || window.top > height - window.height)
    throw Error("crop: a " + size_str(window.width, window.height) + " window at (" + std::to_string(window.left) +
                ", " + std::to_string(window.top) + ") does not fit in " + size_str(width, height));
  if (static_cast<int64_t>(window.width) * window.height > DecodeLimits{}.max_pixels)
    throw Error("resize: the " + size_str(window.width, window.height) + " result would be larger than " +
                std::to_string(DecodeLimits{}.max_pixels) + " pixels");
}

std::pair<int, int> shorter_side_resize(int width, int height, int size) {
  const int shorter = std::min(width, height), longer = std::max(width, height);
  // Python's int(size * long / short): an exact product, one correctly rounded division, truncation.
  const int new_long = static_cast<int>(static_cast<double>(int64_t{size} * longer) / shorter);
  return width <= height ? std::pair{size, new_long} : std::pair{new_long, size};
}

int center_crop_offset(int size, int crop) { return static_cast<int>(std::nearbyint((size - crop) / 2.0)); }

Image center_crop(const Image& image, int width, int height) {
  check_resize_args(image, width, height, "center crop");
  const Window w{center_crop_offset(image.width, width), center_crop_offset(image.height, height), width, height};
  check_window(w, image.width, image.height);
  Image out{width, height, std::vector<uint8_t>(3 * static_cast<std::size_t>(width) * height)};
  const std::size_t row = 3 * static_cast<std::size_t>(width);
  for (int y = 0; y < height; ++y) {
    const auto* src = &image.rgb[3 * ((static_cast<std::size_t>(w.top) + y) * image.width + w.left)];
    std::copy(src, src + row, &out.rgb[row * y]);
  }
  return out;
}

Image resize_and_crop(const Image& image, Preset preset) {
  if (preset == Preset::caffe) return center_crop(resize_cv_linear(image, kResize, kResize), kCaffeCrop, kCaffeCrop);
  return torchvision_crop(image);
}

CropRegion crop_region(int width, int height, Preset preset) {
  const auto [rw, rh] = preset == Preset::caffe ? std::pair{kResize, kResize} : shorter_side_resize(width, height, kResize);
  const int crop = preset == Preset::caffe ? kCaffeCrop : kTorchvisionCrop;
  const double sx = static_cast<double>(width) / rw, sy = static_cast<double>(height) / rh;
  return {center_crop_offset(rw, crop) * sx, center_crop_offset(rh, crop) * sy, crop * sx, crop * sy};
}

void to_network_input(const Image& crop, Preset preset, float* out) {
  // torchvision: ToTensor then Normalize, in float32 and in torchvision's order: x / 255, then (x - mean) / std.
  static constexpr float kMean[3] = {0.485f, 0.456f, 0.406f}, kStd[3] = {0.229f, 0.224f, 0.225f};
  static constexpr float kCaffeMeanRgb[3] = {123.0f, 117.0f, 104.0f};  // Caffe's BGR mean (104, 117, 123)
  const std::size_t plane = static_cast<std::size_t>(crop.width) * crop.height;
  for (int c = 0; c < 3; ++c) {
    float* dst = out + (preset == Preset::caffe ? 2 - c : c) * plane;
    for (std::size_t i = 0; i < plane; ++i) {
      const float v = crop.rgb[3 * i + c];
      switch (preset) {
        case Preset::torchvision: dst[i] = (v / 255.0f - kMean[c]) / kStd[c]; break;
        case Preset::caffe: dst[i] = v - kCaffeMeanRgb[c]; break;
        case Preset::tflite: dst[i] = (v - 127.5f) / 127.5f; break;
      }
    }
  }
}

Tensor preprocess(const Image& image, Preset preset) {
  const Image crop = resize_and_crop(image, preset);
  Tensor out({1, 3, crop.height, crop.width});
  to_network_input(crop, preset, out.data());
  return out;
}

Preset parse_preset(const std::string& name) {
  for (Preset p : {Preset::torchvision, Preset::caffe, Preset::tflite})
    if (name == preset_name(p)) return p;
  throw Error("unknown preprocessing preset " + quote_input(name) + " (expected torchvision, caffe or tflite)");
}

std::string preset_name(Preset preset) {
  switch (preset) {
    case Preset::torchvision:
      return "torchvision";
    case Preset::caffe:
      return "caffe";
    case Preset::tflite:
      return "tflite";
  }
  return "unknown";
}

}  // namespace squeezenet
