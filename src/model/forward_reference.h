#pragma once
#include "squeezenet/model.h"

namespace squeezenet {
// Eval-mode forward of `model` with the reference kernels: [N, 3, H, W] -> [N, num_classes].
Tensor forward_reference(const Model& model, const Tensor& input);
// The output of `features` alone: [N, 512, h, w].
Tensor features_reference(const Model& model, const Tensor& input);
}  // namespace squeezenet
