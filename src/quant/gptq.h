#pragma once
// Weight rounding that sees the inputs (GPTQ: Frantar et al., 2022, after Optimal Brain Quantization): each output
// channel's weights are rounded one at a time and the ones not yet rounded absorb the error, weighted by the
// inverse of the conv's input second moments over the calibration images. Rounding to nearest treats every weight
// alone; here the output error, not the weight error, is what is kept small.
#include <map>
#include <string>
#include <vector>

#include "squeezenet/quantize.h"

namespace squeezenet::quant {

class InputMoments {
 public:
  // x: the [N, C, H, W] fp32 tensor conv `spec` reads; at most kPixels output positions an image are sampled.
  void add(const std::string& conv, const Conv2dSpec& spec, const Tensor& x);
  // s8 weights per output channel (symmetric, the channel's largest |w / gain| at 127) of w / gain[c], gains as
  // quant::input_gains (empty: all 1), into q.weight and q.weight_scale.
  void quantize(const Tensor& w, const std::vector<float>& gains, QuantizedConv& q) const;

  static constexpr int64_t kPixels = 1024;

 private:
  struct Sums {
    std::vector<double> xx;  // [D, D], D = C * K * K in weight order; upper triangle
    double count = 0;
  };
  std::map<std::string, Sums> sums_;
};

}  // namespace squeezenet::quant
