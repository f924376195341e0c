#pragma once
// The calibration passes of GPTQ assignment: the second moments of every conv's input over a set of images.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "quant/gptq.h"
#include "squeezenet/dataset.h"
#include "squeezenet/image.h"
#include "squeezenet/weights.h"

namespace squeezenet {

// `progress` gets (images done, images in all) after each batch.
using MomentsProgress = std::function<void(int64_t, int64_t)>;

// Runs the network `weights` describe (fp32) over `images`, preprocessed as `eval` does with `preset`, one batch of
// `batch_size` at a time (nothing else is held), and sums each conv's input moments. An image that does not decode
// is an error naming it.
quant::InputMoments conv_input_moments(const WeightFile& weights, const std::vector<LabelledImage>& images,
                                       Preset preset, int batch_size, const MomentsProgress& progress);

// Sequential fitting's moments, as the int8 path's: the moments of a conv's input x_q in the network whose earlier
// convs are already shared, and their cross moments with its input x in the fp32 network, so that the conv can be
// fitted to the inputs it will read while its target stays the fp32 output. Both networks run over the images
// (as conv_input_moments, one batch at a time) anew for each conv asked for, except that a Fire's expand3x3 is
// measured with its expand1x1, whose input it shares.
class SequentialMoments {
 public:
  SequentialMoments(const WeightFile& fp32, std::vector<LabelledImage> images, Preset preset, int batch_size,
                    MomentsProgress progress);
  // The moments of `conv`'s input; `shared` holds every conv before it as shared (the later ones are not read).
  const quant::InputMoments& measure(const std::string& conv, const WeightFile& shared);

 private:
  WeightFile fp32_;
  std::vector<LabelledImage> images_;
  Preset preset_;
  int batch_size_;
  MomentsProgress progress_;
  quant::InputMoments moments_;
  std::set<std::string> measured_;  // the convs moments_ holds, all measured on the same shared network
};

}  // namespace squeezenet
