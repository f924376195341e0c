#pragma once
// The codebook view of a weight-shared tensor, shared by the writers of .sqz and Deep Compression's .net.
#include <cstdint>
#include <vector>

#include "squeezenet/tensor.h"

namespace squeezenet {

// Entry 0 is 0.0, for pruned weights. Returns `known` when it is such a codebook (at most max_entries + 1
// long) and holds every value of `t`, else `t`'s distinct non-zero values in ascending order when there are at
// most max_entries of them, else an empty vector.
std::vector<float> codebook_for(const Tensor& t, const std::vector<float>* known, int max_entries);

// The code of every element of `t` in `codebook` (which must hold them all): the first entry with the same
// bits, 0 for zeros.
std::vector<uint8_t> codes_for(const Tensor& t, const std::vector<float>& codebook);

}  // namespace squeezenet
