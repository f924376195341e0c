#pragma once
// The calibration pass of GPTQ assignment: the second moments of every conv's fp32 input over a set of images.
#include <functional>
#include <vector>

#include "quant/gptq.h"
#include "squeezenet/dataset.h"
#include "squeezenet/image.h"
#include "squeezenet/weights.h"

namespace squeezenet {

// `progress` gets (images done, images in all) after each batch.
using MomentsProgress = std::function<void(int64_t, int64_t)>;

// Runs the network `weights` describe (fp32, reference kernels) over `images`, preprocessed as `eval` does with
// `preset`, one batch of `batch_size` at a time (nothing else is held), and sums each conv's input moments. An
// image that does not decode is an error naming it.
quant::InputMoments conv_input_moments(const WeightFile& weights, const std::vector<LabelledImage>& images,
                                       Preset preset, int batch_size, const MomentsProgress& progress);

}  // namespace squeezenet
