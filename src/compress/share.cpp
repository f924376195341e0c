#include "compress/share.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "compress/codebook.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

std::vector<float> share_weights(Tensor& w, int bits, KmeansInit init, bool half, uint64_t seed) {
  if (bits < 1 || bits > 8) throw Error("weight sharing needs 1 to 8 bits, not " + std::to_string(bits));
  const int k = (1 << bits) - 1;
  std::vector<float> codebook = codebook_for(w, nullptr, k);
  if (!codebook.empty()) return codebook;
  std::vector<float> values;
  for (int64_t i = 0; i < w.numel(); ++i)
    if (w[i] != 0.0f) values.push_back(w[i]);
  std::vector<float> centroids = kmeans_1d(std::move(values), k, init, seed);
  for (float& c : centroids) {
    if (half) c = half_to_float(float_to_half(c));
    // A zero centroid would prune the weights it takes; the nearest non-zero float serves them instead.
    if (c == 0.0f) c = std::numeric_limits<float>::denorm_min();
  }
  std::sort(centroids.begin(), centroids.end());
  centroids.erase(std::unique(centroids.begin(), centroids.end()), centroids.end());
  for (int64_t i = 0; i < w.numel(); ++i)
    if (w[i] != 0.0f) w[i] = centroids[nearest(centroids, w[i])];
  codebook.assign(1, 0.0f);
  codebook.insert(codebook.end(), centroids.begin(), centroids.end());
  return codebook;
}

}  // namespace squeezenet
