#pragma once
// Re-assignment of a shared layer's codes from float shadow weights: the k-means step of quantization-aware
// training with a learned codebook, so that a weight whose gradients keep pushing it can change its centroid.
#include <cstdint>
#include <vector>

#include "squeezenet/tensor.h"

namespace squeezenet {

// One Lloyd iteration on `shadow` from the current `codebook` (entry 0 = 0.0, for pruned weights) and `codes`
// (one per element of `shadow`; 0 exactly where the weight is pruned). Each weight with a non-zero code goes to
// the entry c >= 1 minimising (v - c)^2 + rate[c], rate[c] = entropy_weight x the mean square of the non-zero
// shadow values x log2(n / the count of c before the step); then each entry in use becomes its members' mean.
// Pruned weights keep code 0, no other weight gets it, and entries keep their places: with entropy_weight = 0
// an empty entry can win members back, above 0 it stays empty (its code would cost infinitely many bits), and
// compact_codebook drops it. Neither step increases sum (v - c)^2 + rate with the rates it started from.
void reassign_codes(const Tensor& shadow, std::vector<float>& codebook, std::vector<uint8_t>& codes,
                    double entropy_weight);

// Drops the entries no code uses (entry 0 stays), merges entries of equal value, and renumbers the codes.
void compact_codebook(std::vector<float>& codebook, std::vector<uint8_t>& codes);

}  // namespace squeezenet
