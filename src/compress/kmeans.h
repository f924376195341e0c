#pragma once
// One-dimensional k-means for weight sharing (Deep Compression's second stage).
#include <cstdint>
#include <string>
#include <vector>

namespace squeezenet {

// How the centroids start. The paper recommends linear: large weights, rare but important, keep centroids.
enum class KmeansInit { linear, density, forgy, kmeans_pp };
KmeansInit parse_kmeans_init(const std::string& name);  // linear | density | forgy | kmeans++

// Lloyd's iterations on `values` (not empty) from `k` starting centroids until nothing moves; ascending
// centroids. A centroid that loses all its values keeps its place.
std::vector<float> kmeans_1d(std::vector<float> values, int k, KmeansInit init, uint64_t seed);

// Index of the centroid nearest to v in ascending `centroids`.
std::size_t nearest(const std::vector<float>& centroids, float v);

}  // namespace squeezenet
