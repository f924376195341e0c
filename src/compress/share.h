#pragma once
// Weight sharing: every non-zero weight of a layer becomes one of at most 2^bits - 1 values.
#include <cstdint>
#include <vector>

#include "compress/kmeans.h"
#include "squeezenet/tensor.h"

namespace squeezenet {

// Replaces each non-zero weight of `w` by its nearest k-means centroid; zeros stay zero and no other weight
// becomes zero. When `w` has no more than 2^bits - 1 distinct non-zero values, those are the codebook and
// nothing moves. With `half`, centroids are rounded to float16 first. entropy_weight > 0 makes the k-means
// entropy-constrained (see kmeans_1d): fewer bits for a little more error; magnitude_power > 0 weights the
// error of large weights more (see kmeans_1d). Returns the codebook, entry 0 = 0.0.
std::vector<float> share_weights(Tensor& w, int bits, KmeansInit init, bool half, uint64_t seed,
                                 double entropy_weight = 0.0, double magnitude_power = 0.0);

}  // namespace squeezenet
