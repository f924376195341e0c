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

// Per input channel of convs[index], the factor its int8 weights carry beyond the fp32 ones: input_scale over the
// scale its channel was written at. A Fire's expands write at two scales; the conv reading their concatenation
// (next squeeze or final conv) has it folded into its weights, so it still reads one u8 tensor at one input_scale.
// Empty for a conv that does not read a Fire's output.
std::vector<float> input_gains(const QuantizedModel& q, std::size_t index);

// Per input channel of convs[index], the scale its u8 values were written at: the conv's input_scale, or after a
// Fire the output_scale of the expand that wrote the channel. A conv kept in fp32 folds them into its weights.
std::vector<float> input_channel_scales(const QuantizedModel& q, std::size_t index);

// A kept conv's fp32 weights [O, C, K, K] with input_channel_scales folded in (w * a[c]); the stem's as they are.
// `c` is one of q.convs.
std::vector<float> kept_weights(const QuantizedModel& q, const QuantizedConv& c);

// The image's multiplier before rounding: 1 / input_scale of the stem.
float image_inverse_scale(const QuantizedModel& q);

}  // namespace squeezenet::quant
