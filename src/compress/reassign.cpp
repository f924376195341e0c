#include "compress/reassign.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "compress/kmeans.h"

namespace squeezenet {

void reassign_codes(const Tensor& shadow, std::vector<float>& codebook, std::vector<uint8_t>& codes,
                    double entropy_weight) {
  std::vector<int64_t> count(codebook.size(), 0);
  double n = 0, mean_square = 0;
  for (int64_t i = 0; i < shadow.numel(); ++i) {
    const uint8_t code = codes[static_cast<std::size_t>(i)];
    if (code == 0) continue;
    ++count[code];
    ++n;
    mean_square += double(shadow[i]) * shadow[i];
  }
  if (n == 0) return;
  const double lambda = entropy_weight * mean_square / n;
  // The candidates in ascending order of value, one per value (the Quantizer needs them distinct).
  std::vector<std::pair<double, std::size_t>> candidates;
  for (std::size_t c = 1; c < codebook.size(); ++c)
    if (lambda == 0 || count[c] > 0) candidates.emplace_back(codebook[c], c);
  std::sort(candidates.begin(), candidates.end());
  Quantizer q;
  std::vector<std::size_t> entry;
  for (const auto& [value, c] : candidates) {
    if (!q.centroids.empty() && q.centroids.back() == value) continue;
    q.centroids.push_back(value);
    q.rate.push_back(lambda > 0 ? lambda * std::log2(n / double(count[c])) : 0.0);
    entry.push_back(c);
  }
  q.build();  // may drop a candidate the rates hide: map the survivors back to their entries
  std::vector<std::size_t> kept;
  for (std::size_t j = 0, k = 0; j < q.centroids.size(); ++j) {
    while (double(codebook[entry[k]]) != q.centroids[j]) ++k;
    kept.push_back(entry[k]);
  }
  std::vector<double> sum(codebook.size(), 0.0);
  std::fill(count.begin(), count.end(), 0);
  for (int64_t i = 0; i < shadow.numel(); ++i) {
    uint8_t& code = codes[static_cast<std::size_t>(i)];
    if (code == 0) continue;
    code = static_cast<uint8_t>(kept[q.index(shadow[i])]);
    sum[code] += shadow[i];
    ++count[code];
  }
  for (std::size_t c = 1; c < codebook.size(); ++c) {
    if (count[c] == 0) continue;
    const auto mean = static_cast<float>(sum[c] / double(count[c]));
    // A zero entry would read as pruned; the nearest non-zero float serves its weights instead.
    codebook[c] = mean != 0.0f ? mean : std::numeric_limits<float>::denorm_min();
  }
}

void compact_codebook(std::vector<float>& codebook, std::vector<uint8_t>& codes) {
  std::vector<bool> used(codebook.size(), false);
  used[0] = true;
  for (uint8_t code : codes) used[code] = true;
  std::vector<uint8_t> renumber(codebook.size(), 0);
  std::vector<float> kept;
  for (std::size_t c = 0; c < codebook.size(); ++c) {
    if (!used[c]) continue;
    // Two entries that met on the same value become one (a writer would store the second for nothing).
    const auto same = std::find(kept.begin(), kept.end(), codebook[c]);
    renumber[c] = static_cast<uint8_t>(same - kept.begin());
    if (same == kept.end()) kept.push_back(codebook[c]);
  }
  codebook = std::move(kept);
  for (uint8_t& code : codes) code = renumber[code];
}

}  // namespace squeezenet
