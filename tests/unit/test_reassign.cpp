// Code re-assignment from float shadow weights (quantization-aware centroid tuning) on small synthetic layers.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "compress/codebook.h"
#include "compress/prune.h"
#include "compress/reassign.h"
#include "compress/share.h"
#include "random_tensor.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

// sum (v - c)^2 + rate over the coded weights, the rates from `rate_codes`' counts (reassign_codes' own).
double cost(const Tensor& shadow, const std::vector<float>& codebook, const std::vector<uint8_t>& codes,
            const std::vector<uint8_t>& rate_codes, double entropy_weight) {
  std::vector<double> count(codebook.size(), 0.0);
  double n = 0, mean_square = 0, total = 0;
  for (int64_t i = 0; i < shadow.numel(); ++i)
    if (rate_codes[static_cast<std::size_t>(i)] != 0) {
      ++count[rate_codes[static_cast<std::size_t>(i)]];
      ++n;
      mean_square += double(shadow[i]) * shadow[i];
    }
  for (int64_t i = 0; i < shadow.numel(); ++i) {
    const uint8_t c = codes[static_cast<std::size_t>(i)];
    if (c == 0) continue;
    const double d = shadow[i] - codebook[c];
    total += d * d + entropy_weight * mean_square / n * std::log2(n / count[c]);
  }
  return total;
}

// A pruned layer shared to `bits`, and its shadow: the float weights, each moved a little.
struct Layer {
  Tensor shadow;
  std::vector<float> codebook;
  std::vector<uint8_t> codes;
};
Layer shared_layer(int bits, double drift, uint64_t seed) {
  Tensor w = test::random_tensor({24, 8, 3, 3}, seed);
  prune_by_magnitude(w, 0.5);
  Layer l{w, {}, {}};
  l.codebook = share_weights(w, bits, KmeansInit::linear, false, 1);
  l.codes = codes_for(w, l.codebook);
  Rng rng(seed + 1);
  for (int64_t i = 0; i < l.shadow.numel(); ++i)
    if (l.shadow[i] != 0.0f) l.shadow[i] += static_cast<float>(drift * rng.normal());
  return l;
}

TEST(Reassign, NeverIncreasesTheDistortionAndKeepsPrunedWeightsOnCodeZero) {
  for (double weight : {0.0, 0.05}) {
    Layer l = shared_layer(4, 0.05, 3);
    const std::vector<uint8_t> first = l.codes;
    const std::size_t entries = l.codebook.size();
    double last = cost(l.shadow, l.codebook, l.codes, l.codes, weight);
    int changed = 0;
    for (int it = 0; it < 5; ++it) {
      const std::vector<uint8_t> before = l.codes;
      reassign_codes(l.shadow, l.codebook, l.codes, weight);
      const double now = cost(l.shadow, l.codebook, l.codes, before, weight);
      EXPECT_LE(now, last * (1 + 1e-12)) << "weight " << weight << ", iteration " << it;
      last = cost(l.shadow, l.codebook, l.codes, l.codes, weight);  // the rates of the next step
      for (std::size_t i = 0; i < l.codes.size(); ++i) changed += l.codes[i] != before[i];
    }
    EXPECT_GT(changed, 0) << "weights that drifted past a boundary change centroid";
    EXPECT_EQ(l.codebook.size(), entries);
    EXPECT_LE(l.codebook.size(), 16u);
    for (std::size_t i = 0; i < l.codes.size(); ++i) {
      ASSERT_EQ(l.codes[i] == 0, first[i] == 0) << i;
      ASSERT_EQ(l.codes[i] == 0, l.shadow[static_cast<int64_t>(i)] == 0.0f) << i;
    }
    for (std::size_t c = 1; c < l.codebook.size(); ++c) EXPECT_NE(l.codebook[c], 0.0f);
  }
}

TEST(Reassign, EntriesInUseAreTheirMembersMeansAndACheapCodeWinsWeightsFromADearOne) {
  Layer l = shared_layer(4, 0.02, 5);
  reassign_codes(l.shadow, l.codebook, l.codes, 0.0);
  std::vector<double> sum(l.codebook.size(), 0.0), count(l.codebook.size(), 0.0);
  for (std::size_t i = 0; i < l.codes.size(); ++i) {
    sum[l.codes[i]] += l.shadow[static_cast<int64_t>(i)];
    ++count[l.codes[i]];
  }
  for (std::size_t c = 1; c < l.codebook.size(); ++c) {
    if (count[c] == 0) continue;
    EXPECT_NEAR(l.codebook[c], sum[c] / count[c], 1e-6) << c;
  }
  // A strong entropy weight empties the rare entries for good, and compacting drops them.
  auto used = [](const std::vector<uint8_t>& codes) { return std::set<uint8_t>(codes.begin(), codes.end()).size(); };
  const std::size_t plain = used(l.codes);
  for (int it = 0; it < 10; ++it) reassign_codes(l.shadow, l.codebook, l.codes, 0.5);
  const std::size_t constrained = used(l.codes);
  EXPECT_LT(constrained, plain);
  std::vector<float> values;
  for (uint8_t c : l.codes) values.push_back(l.codebook[c]);
  compact_codebook(l.codebook, l.codes);
  EXPECT_EQ(l.codebook.size(), constrained);  // entry 0 is one of the codes in use
  EXPECT_EQ(l.codebook[0], 0.0f);
  for (std::size_t i = 0; i < l.codes.size(); ++i) ASSERT_EQ(l.codebook[l.codes[i]], values[i]) << i;
}

}  // namespace
}  // namespace squeezenet
