#include "compress/share.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "compress/codebook.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

std::vector<float> share_weights(Tensor& w, int bits, KmeansInit init, bool half, uint64_t seed,
                                 double entropy_weight, double magnitude_power) {
  if (bits < 1 || bits > 8) throw Error("weight sharing needs 1 to 8 bits, not " + std::to_string(bits));
  const int k = (1 << bits) - 1;
  std::vector<float> codebook = codebook_for(w, nullptr, k);
  if (!codebook.empty()) return codebook;
  std::vector<float> values;
  for (int64_t i = 0; i < w.numel(); ++i)
    if (w[i] != 0.0f) values.push_back(w[i]);
  Quantizer q = kmeans_1d(std::move(values), k, init, seed, entropy_weight, magnitude_power);
  // The stored centroids are floats (float16 with `half`); the weights go where those, at the same rates, send them.
  std::vector<std::pair<float, double>> stored;
  for (std::size_t j = 0; j < q.centroids.size(); ++j) {
    auto c = static_cast<float>(q.centroids[j]);
    if (half) c = half_to_float(float_to_half(c));
    // A zero centroid would prune the weights it takes; the nearest non-zero float serves them instead.
    if (c == 0.0f) c = std::numeric_limits<float>::denorm_min();
    stored.emplace_back(c, q.rate[j]);
  }
  std::sort(stored.begin(), stored.end());  // of two centroids rounded together, the cheaper stays
  q.centroids.clear();
  q.rate.clear();
  for (const auto& [c, rate] : stored) {
    if (!q.centroids.empty() && q.centroids.back() == c) continue;
    q.centroids.push_back(c);
    q.rate.push_back(rate);
  }
  q.build();
  for (int64_t i = 0; i < w.numel(); ++i)
    if (w[i] != 0.0f) w[i] = static_cast<float>(q.centroids[q.index(w[i])]);
  codebook.assign(1, 0.0f);
  codebook.insert(codebook.end(), q.centroids.begin(), q.centroids.end());
  return codebook;
}

}  // namespace squeezenet
