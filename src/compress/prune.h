#pragma once
// Magnitude pruning (Deep Compression's first stage).
#include <map>
#include <string>

#include "squeezenet/model.h"

namespace squeezenet {

// Zeroes every weight but the round(density * numel) largest in magnitude; zeros already there count among
// the pruned. Returns how many stay non-zero.
int64_t prune_by_magnitude(Tensor& w, double density);

// Per conv layer (state_dict prefix) densities shaped like the authors' compressed SqueezeNet v1.0 (conv1 and
// the 1x1 convs dense, expand3x3 about 1/3, the final conv 1/5), scaled so the whole network keeps `global`.
std::map<std::string, double> shaped_densities(const ModelConfig& config, double global);

}  // namespace squeezenet
