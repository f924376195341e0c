#pragma once
// Where int8 departs from fp32: each scaled activation of the int8 reference forward set against the fp32 one on
// the same images. The error accumulates along the network, so a layer's own share is its drop from the one before.
#include <string>
#include <vector>

#include "squeezenet/quantize.h"

namespace squeezenet::quant {

struct LayerError {
  std::string name;  // as quant::Tap names them
  float scale;       // the int8 forward's step for this tensor (0 for the fp32 logits)
  double sqnr_db;    // 10 log10(sum fp32^2 / sum (int8 - fp32)^2) over all images
  double cosine;     // of the two, all images as one vector
  double grid_db;    // SQNR of the fp32 tensor rounded to its own u8 grid: the most this scale allows
  double weights_db;  // SQNR of the fp32 forward with the int8 weights (dequantized): the weights' share
  double clipped;    // fraction of fp32 values that saturate: over 255.5 steps (the image: 127.5 from its zero point)
};
struct ErrorReport {
  std::vector<LayerError> layers;  // in forward order
  int images = 0, same_top1 = 0;
};
ErrorReport layer_errors(const Model& model, const QuantizedModel& q, const std::vector<Tensor>& images);

}  // namespace squeezenet::quant
