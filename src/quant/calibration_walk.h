#pragma once
// Calibration's one pass over the network, one conv at a time with all images together, through the fp32 network and,
// when fitting sequentially, through the quantized network as it is being built: each conv is then fitted to the
// inputs it will read at run time (rounded, clipped, with every earlier conv's error), the convs before it final.
// The fp32 activations the pass computes anyway give the scales, so the fp32 network runs once.
#include <functional>
#include <vector>

#include "quant/bias_correction.h"
#include "quant/gptq.h"
#include "squeezenet/quantize.h"

namespace squeezenet::quant {

// What the calibration images gave at one conv's input.
struct ConvInputs {
  InputMeans fp32;       // the fp32 network's
  InputMeans quantized;  // the quantized network's, dequantized (the fp32 network's when not sequential)
  InputMoments moments;  // of the quantized inputs, and their cross moments with the fp32 ones
};
using ConvFit = std::function<void(std::size_t index, const ConvInputs& inputs)>;

// For each conv of q in forward order (names, specs and zero points set): sets its input scale and, from its fp32
// outputs over `images`, its output scale by `rule`; observes its inputs, calls fit(index, inputs), which sets
// q.convs[index]'s weights and bias, then runs the images through it.
void walk_convs(const Model& model, const std::vector<Tensor>& images, Calibration rule, Fitting fitting,
                QuantizedModel& q, const ConvFit& fit);

}  // namespace squeezenet::quant
