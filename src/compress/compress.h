#pragma once
// Deep Compression's pruning and weight sharing over a whole network; entropy coding is the .sqz writer's.
#include <functional>
#include <map>
#include <string>

#include "compress/kmeans.h"
#include "quant/gptq.h"
#include "squeezenet/model.h"
#include "squeezenet/weights.h"

namespace squeezenet {

struct CompressOptions {
  std::map<std::string, double> density;  // per conv (state_dict prefix); absent: no pruning
  // Prune by the output error each weight's removal costs on `moments` (quant::Elimination::prune, the weights
  // left absorbing it) instead of by magnitude; needs `moments`.
  bool prune_by_moments = false;
  std::map<std::string, int> bits;        // per conv; absent: no sharing (the weights stay floats)
  std::map<std::string, double> entropy_weight;  // per conv; absent: plain k-means
  KmeansInit init = KmeansInit::linear;
  double magnitude_power = 0.0;  // k-means weights each weight's squared error by |w|^p
  bool half = false;  // float16 codebooks and biases
  uint64_t seed = 1;
  // When set, codes are assigned by GPTQ instead of to the nearest centroid (the codebook is k-means' either way),
  // on the input moments this gives for each conv, asked in forward order with the weights as they are then (every
  // earlier conv shared): conv_input_moments' for all, or SequentialMoments::measure. Where they hold cross
  // moments, the weights are first moved to the optimum for the shared network's inputs (InputMoments::fit_move).
  std::function<const quant::InputMoments&(const std::string& conv, const WeightFile& shared)> moments;
};

// Parses "0.33" (every layer, or shaped per layer with `shaped`), "features.3.squeeze=0.5,classifier.1=0.2"
// or both ("0.33,classifier.1=0.1"); names are checked against the network's convs.
std::map<std::string, double> parse_per_layer(const std::string& text, const ModelConfig& config, const char* what,
                                              bool shaped);

// Prunes, then shares, each conv as the options say; the result carries the codebooks for the .sqz writer.
WeightFile compress_weights(const WeightFile& in, const ModelConfig& config, const CompressOptions& options);

// Rounds every bias, and every codebook with the weights that use it, to float16 (which the .sqz stores in half
// the bytes); codes and zeros stay. Retraining moves them off float16, so it runs again after it.
void round_to_half(WeightFile& weights, const ModelConfig& config);

}  // namespace squeezenet
