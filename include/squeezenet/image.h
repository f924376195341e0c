#pragma once
// Image files to network inputs, matching the Python pipelines the published weights were trained with:
// PIL + torchvision for the torchvision weights, OpenCV + Caffe's transformer for the Caffe ones. Both the
// decoded pixels and the resized crops are bit-exact with those libraries, so predictions agree exactly.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "squeezenet/export.h"
#include "squeezenet/tensor.h"

namespace squeezenet SQUEEZENET_API {

// 8-bit RGB, interleaved, rows top to bottom: what PIL's Image.convert("RGB") holds.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
};

// Checked against the header before any pixel memory is allocated, so a 40-byte file cannot ask for gigabytes.
struct DecodeLimits {
  int max_side = 16384;
  int64_t max_pixels = 100'000'000;
};

// JPEG (baseline, progressive, greyscale, CMYK/YCCK) and PNG (every bit depth and colour type, interlaced or
// not) converted to RGB exactly as PIL's convert("RGB") does: alpha dropped without compositing, 16-bit
// colour samples cut to their high byte, 16-bit greyscale clipped to 255, CMYK through PIL's formula.
// Anything else, and truncated or broken files, throw Error naming `name` (the file).
Image decode_image(const std::string& path, const DecodeLimits& limits = {});
Image decode_image_bytes(std::string_view bytes, const std::string& name, const DecodeLimits& limits = {});

// torchvision: shorter side to 256 (PIL bilinear), centre 224, RGB, /255, ImageNet mean/std.
// caffe:       whole image to 256x256 (cv2.resize INTER_LINEAR), centre 227, BGR, 0..255 minus (104,117,123).
// tflite:      as torchvision up to the crop, RGB, (x - 127.5) / 127.5.
enum class Preset { torchvision, caffe, tflite };

Preset parse_preset(const std::string& name);
std::string preset_name(Preset preset);

// The network input, [1, 3, H, W] float.
Tensor preprocess(const Image& image, Preset preset);

// The uint8 stage of `preprocess`: the resized, centre-cropped RGB image before normalisation.
Image resize_and_crop(const Image& image, Preset preset);
// The float stage: `crop` normalised as `preset` does, written as three planes [3, H, W] at `out`.
void to_network_input(const Image& crop, Preset preset, float* out);

// The part of a width x height image that the network sees under `preset`, in the image's own pixel
// coordinates: what the centre crop of the resized image covers.
struct CropRegion {
  double left, top, width, height;
};
CropRegion crop_region(int width, int height, Preset preset);

// PIL's Image.resize(..., BILINEAR): antialiased (the filter widens when shrinking), fixed point.
Image resize_pil_bilinear(const Image& image, int width, int height);
// OpenCV's cv2.resize(..., INTER_LINEAR) on uint8: half-pixel centres, no antialiasing, fixed point.
Image resize_cv_linear(const Image& image, int width, int height);
// torchvision's CenterCrop offsets: round((size - crop) / 2) with round-half-to-even.
Image center_crop(const Image& image, int width, int height);

}  // namespace squeezenet
