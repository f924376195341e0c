#pragma once
// What calibration sees of one activation tensor: a histogram of its (absolute) values over every calibration
// image, and the clipping threshold each rule picks from it.
#include <cstdint>
#include <vector>

#include "squeezenet/quantize.h"

namespace squeezenet::quant {

class Histogram {
 public:
  static constexpr int kBins = 2048;
  // Counts |v| of n values. The range starts at the first batch's largest value and doubles (merging pairs of
  // bins) whenever a larger one comes, so one pass suffices.
  void add(const float* v, int64_t n);
  // The clipping threshold by `rule` for `levels` quantization steps above zero (255 for u8 after a ReLU, 127 for
  // the image around its zero point). 0 when nothing but zeros was seen.
  double threshold(Calibration rule, int levels) const;
  double max() const { return max_; }

 private:
  double percentile(double fraction) const;
  double least_squares(int levels) const;
  double least_divergence(int levels) const;

  std::vector<double> bins_ = std::vector<double>(kBins, 0.0);
  double range_ = 0.0, max_ = 0.0, total_ = 0.0;
  double zeros_ = 0.0;  // exact zeros (most of a post-ReLU map), in bin 0 too: every scale keeps them exact
};

}  // namespace squeezenet::quant
