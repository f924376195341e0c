#pragma once
// The cross-entropy with the divisor of its gradient given whole: a step's gradient is the mean over all of its
// images, and dividing each image's by the step's count itself (not by the batch's count times a ratio, which
// rounds) keeps an image's gradient the same bits however the step was split into ranks and micro-batches.
#include <cstdint>
#include <vector>

#include "squeezenet/train.h"

namespace squeezenet::train {

// cross_entropy (squeezenet/train.h) with the gradient divided by `images`, the loss still the batch's mean.
LossResult cross_entropy_over(const Tensor& logits, const std::vector<int>& labels, float label_smoothing,
                              double images);

}  // namespace squeezenet::train
