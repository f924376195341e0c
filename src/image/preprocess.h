#pragma once
// Pieces of the preprocessing presets that tests check on their own.
#include <utility>

#include "squeezenet/image.h"

namespace squeezenet {

// A rectangle of an image, in pixels.
struct Window {
  int left = 0, top = 0, width = 0, height = 0;
};

// Throws Error unless `image` is a well-formed non-empty RGB image.
void check_image(const Image& image, const char* what);
// check_image, and width x height must be a positive size.
void check_resize_args(const Image& image, int width, int height, const char* what);
// Throws Error unless `window` is non-empty, lies inside width x height, and is within the decode limits.
void check_window(const Window& window, int width, int height);

// The window of PIL's resize of `image` to width x height, equal to that part of resize_pil_bilinear's result.
Image resize_pil_bilinear_window(const Image& image, int width, int height, const Window& window);

// torchvision's Resize(size) with an int size (_compute_resized_output_size): the shorter side becomes
// `size` and the longer int(size * long / short). Returns {width, height}.
std::pair<int, int> shorter_side_resize(int width, int height, int size);

// torchvision's CenterCrop: the crop starts at int(round((size - crop) / 2.0)), Python rounding half to even.
int center_crop_offset(int size, int crop);

}  // namespace squeezenet
