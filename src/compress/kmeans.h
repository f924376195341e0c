#pragma once
// One-dimensional k-means for weight sharing (Deep Compression's second stage), plain or entropy-constrained.
#include <cstdint>
#include <string>
#include <vector>

namespace squeezenet {

// How the centroids start. The paper recommends linear: large weights, rare but important, keep centroids.
enum class KmeansInit { linear, density, forgy, kmeans_pp };
KmeansInit parse_kmeans_init(const std::string& name);  // linear | density | forgy | kmeans++

// A value goes to the centroid minimising (v - c)^2 + rate[c]; with equal rates, to the nearest. Each
// centroid then takes one interval of the line, so assigning is a binary search.
struct Quantizer {
  std::vector<double> centroids;   // ascending, distinct
  std::vector<double> rate;        // per centroid, in squared value units
  std::vector<double> thresholds;  // centroid i takes (thresholds[i - 1], thresholds[i]]
  // Drops the centroids no value would choose (a high rate can hide one) and sets the thresholds.
  void build();
  std::size_t index(float v) const;
};

// Lloyd's iterations on `values` (not empty) from `k` starting centroids until nothing moves. With
// entropy_weight = 0 this is plain k-means, and a centroid that loses all its values keeps its place. Above 0
// it is entropy-constrained k-means (Chou, Lookabaugh & Gray, 1989): a centroid's rate is entropy_weight x the
// mean square of the values x its ideal code length in bits, log2(n / its count), re-estimated each
// iteration, so the squared error is traded against the bits Huffman will spend; centroids that lose all their
// values are dropped. The weight is relative to the values' scale, so one figure means the same in every layer.
// magnitude_power p > 0 weights each value's squared error by |v|^p, so a centroid sits at its values' weighted
// mean, nearer the larger ones (the assignment, nearest or cheapest, is the same for any such weighting
// without rates, and is kept unweighted with them).
Quantizer kmeans_1d(std::vector<float> values, int k, KmeansInit init, uint64_t seed, double entropy_weight = 0.0,
                    double magnitude_power = 0.0);

}  // namespace squeezenet
