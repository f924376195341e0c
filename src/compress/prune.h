#pragma once
// Magnitude pruning (Deep Compression's first stage).
#include <map>
#include <string>
#include <vector>

#include "squeezenet/model.h"

namespace squeezenet {

// Zeroes every weight but the round(density * numel) largest in magnitude; zeros already there count among
// the pruned. Returns how many stay non-zero.
int64_t prune_by_magnitude(Tensor& w, double density);

// Prunes each output channel of w [O, ...] to `density` of its weights by the output error each removal costs on
// `moments`, the [D, D] second moments of the conv's input in weight order, the weights left absorbing it
// (quant::Elimination::prune, SparseGPT's way): what a layer computes, not each weight's size, decides. Zeros
// already there stay zero. Returns how many stay non-zero.
int64_t prune_by_output_error(Tensor& w, double density, const std::vector<double>& moments);

// Per conv layer (state_dict prefix) densities shaped like the authors' compressed SqueezeNet v1.0 (conv1 and
// the 1x1 convs dense, expand3x3 about 1/3, the final conv 1/5), scaled so the whole network keeps `global`.
std::map<std::string, double> shaped_densities(const ModelConfig& config, double global);

}  // namespace squeezenet
