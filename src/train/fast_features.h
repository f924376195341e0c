#pragma once
// The forward of `features` alone with the AVX2 inference kernels, for runs that keep the features frozen:
// nothing of it is needed for backward, so the fused conv+ReLU kernels on NHWC activations serve as they are.
#include "squeezenet/model.h"

namespace squeezenet::train {

// Whether fast_features can run on this CPU.
bool fast_features_available();

// [N, 3, H, W] -> the output of `features`, [N, 512, h, w] NCHW; images spread over the OpenMP threads.
Tensor fast_features(const Model& model, const Tensor& input);

}  // namespace squeezenet::train
