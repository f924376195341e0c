#pragma once
// Pictures for people: heat-map overlays of class activation maps, written as PNG.
#include <string>

#include "squeezenet/export.h"
#include "squeezenet/image.h"
#include "squeezenet/tensor.h"

namespace squeezenet SQUEEZENET_API {

// `image` with `map` ([h, w], non-negative) stretched bilinearly over `region` (the part the network saw),
// scaled to its maximum and drawn in a blue-to-red colour ramp at `opacity` where the evidence is
// (transparent where the map is zero). Outside the region the image is dimmed.
Image overlay_heatmap(const Image& image, const Tensor& map, const CropRegion& region, float opacity = 0.6f);

std::string encode_png(const Image& image);  // 8-bit RGB PNG bytes (libpng)
void write_png(const Image& image, const std::string& path);  // atomically
}  // namespace squeezenet
