#pragma once
// Training-time image augmentation as torchvision's RandomResizedCrop + RandomHorizontalFlip draw it, and the
// conversion of a crop to the network input of a preprocessing preset.
#include <cstdint>

#include "image/preprocess.h"
#include "squeezenet/image.h"
#include "util/rng.h"

namespace squeezenet::train {

// torchvision's RandomResizedCrop.get_params with scale (0.08, 1) and ratio (3/4, 4/3): ten tries at a random
// area and log-uniform aspect ratio, else the centre crop with the ratio clamped into range.
Window random_resized_crop_window(int width, int height, Rng& rng);

// The crop resized to size x size with PIL's bilinear filter, mirrored with probability 1/2.
Image random_resized_crop_flip(const Image& image, int size, Rng& rng);

// The crop side the preset's network input has: 227 for caffe, 224 otherwise.
int crop_size(Preset preset);

// A seed for one draw of a seeded run: different for every (seed, a, b) and independent of thread timing.
uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b);

}  // namespace squeezenet::train
