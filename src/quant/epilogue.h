#pragma once
// The per-channel constants of a quantized conv's epilogue, worked out in one place so that every kernel
// family multiplies by the very same floats (squeezenet/quantize.h gives the formulas).
#include <vector>

#include "squeezenet/quantize.h"

namespace squeezenet::quant {

struct Epilogue {
  std::vector<float> multiplier, offset;  // per output channel
  bool to_u8;                             // else fp32 with ReLU (the final conv)
};
Epilogue epilogue(const QuantizedConv& conv);

// The image's multiplier before rounding: 1 / input_scale of the stem.
float image_inverse_scale(const QuantizedModel& q);

}  // namespace squeezenet::quant
