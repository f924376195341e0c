#include "compress/kmeans.h"

#include <algorithm>
#include <cmath>

#include "squeezenet/error.h"
#include "util/rng.h"

namespace squeezenet {

KmeansInit parse_kmeans_init(const std::string& name) {
  if (name == "linear") return KmeansInit::linear;
  if (name == "density") return KmeansInit::density;
  if (name == "forgy") return KmeansInit::forgy;
  if (name == "kmeans++") return KmeansInit::kmeans_pp;
  throw Error("unknown k-means initialisation '" + name + "' (expected linear, density, forgy or kmeans++)");
}

std::size_t nearest(const std::vector<float>& centroids, float v) {
  const auto it = std::lower_bound(centroids.begin(), centroids.end(), v);
  if (it == centroids.begin()) return 0;
  if (it == centroids.end()) return centroids.size() - 1;
  const auto i = static_cast<std::size_t>(it - centroids.begin());
  return v - centroids[i - 1] <= centroids[i] - v ? i - 1 : i;
}

namespace {
std::vector<double> initial(const std::vector<float>& sorted, int k, KmeansInit init, uint64_t seed) {
  const std::size_t n = sorted.size();
  std::vector<double> c(static_cast<std::size_t>(k));
  Rng rng(seed);
  switch (init) {
    case KmeansInit::linear:
      for (int i = 0; i < k; ++i) c[i] = sorted.front() + (sorted.back() - sorted.front()) * (k == 1 ? 0.5 : double(i) / (k - 1));
      break;
    case KmeansInit::density:
      for (int i = 0; i < k; ++i) c[i] = sorted[std::min(n - 1, static_cast<std::size_t>((i + 0.5) / k * n))];
      break;
    case KmeansInit::forgy:
      for (auto& v : c) v = sorted[std::min(n - 1, static_cast<std::size_t>(rng.uniform(0, 1) * n))];
      break;
    case KmeansInit::kmeans_pp: {
      c[0] = sorted[std::min(n - 1, static_cast<std::size_t>(rng.uniform(0, 1) * n))];
      std::vector<double> d2(n);
      for (std::size_t i = 0; i < n; ++i) d2[i] = (sorted[i] - c[0]) * (sorted[i] - c[0]);
      for (int j = 1; j < k; ++j) {
        double sum = 0;
        for (double d : d2) sum += d;
        double pick = rng.uniform(0, 1) * sum;
        std::size_t i = 0;
        while (i + 1 < n && (pick -= d2[i]) > 0) ++i;
        c[j] = sorted[i];
        for (std::size_t m = 0; m < n; ++m) d2[m] = std::min(d2[m], (sorted[m] - c[j]) * (sorted[m] - c[j]));
      }
      break;
    }
  }
  std::sort(c.begin(), c.end());
  return c;
}
}  // namespace

std::vector<float> kmeans_1d(std::vector<float> values, int k, KmeansInit init, uint64_t seed) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + values[i];
  std::vector<double> c = initial(values, k, init, seed);
  // In one dimension each cluster is a run of the sorted values between midpoints, so an iteration costs
  // k binary searches instead of n distance computations.
  for (int it = 0; it < 300; ++it) {
    std::vector<double> next = c;
    std::size_t lo = 0;
    for (std::size_t j = 0; j < c.size(); ++j) {
      const std::size_t hi = j + 1 == c.size() ? n
          : static_cast<std::size_t>(std::upper_bound(values.begin(), values.end(), (c[j] + c[j + 1]) / 2) - values.begin());
      if (hi > lo) next[j] = (prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo);
      lo = std::max(lo, hi);
    }
    std::sort(next.begin(), next.end());
    if (next == c) break;
    c = std::move(next);
  }
  return std::vector<float>(c.begin(), c.end());
}

}  // namespace squeezenet
