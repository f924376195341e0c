#pragma once
// Bias correction (Nagel et al., "Data-Free Quantization", 2019, section 4.2): rounding a channel's weights shifts its
// mean output by the weight error times the mean input, which never averages out (SqueezeNet's inputs are post-ReLU,
// all positive). Calibration measures each conv's mean input per channel and kernel tap, padding included, and the
// bias takes that shift back. Sequential calibration measures the quantized network's inputs as well: the bias then
// also takes back the mean shift of activation rounding, clipping and every earlier layer's error.
#include <map>
#include <string>
#include <vector>

#include "squeezenet/quantize.h"

namespace squeezenet::quant {

class InputMeans {
 public:
  // x: the [N, C, H, W] fp32 tensor conv `spec` reads.
  void add(const std::string& conv, const Conv2dSpec& spec, const Tensor& x);
  // With these the fp32 network's inputs, and `quantized` the quantized network's (dequantized; *this when
  // fitting to fp32 inputs): bias[o] - sum over c, taps of (w_s8 * weight_scale[o] * gain[c] * quantized mean -
  // w_fp32 * fp32 mean) at that tap, gains as quant::input_gains (empty: all 1). The int8 conv's mean output before
  // its ReLU is then the fp32 conv's.
  std::vector<float> corrected_bias(const QuantizedConv& q, const Tensor& fp32_weight, const std::vector<float>& gains,
                                    const InputMeans& quantized) const;

 private:
  struct Sums {
    std::vector<double> sum;  // [C, K, K]: the mean over output pixels of the input each tap reads
    double images = 0;
  };
  std::map<std::string, Sums> sums_;
};

}  // namespace squeezenet::quant
