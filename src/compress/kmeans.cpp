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

void Quantizer::build() {
  // The envelope of the lines -2 c v + c^2 + rate (the cost less v^2) from the smallest c up: a centroid whose
  // line never reaches the bottom is chosen by no value.
  std::vector<std::size_t> hull;
  auto cross = [&](std::size_t a, std::size_t b) {  // where b starts to beat a, for centroids[a] < centroids[b]
    const double ca = centroids[a], cb = centroids[b];
    return (ca + cb) / 2 + (rate[b] - rate[a]) / (2 * (cb - ca));
  };
  for (std::size_t j = 0; j < centroids.size(); ++j) {
    // The last line of the hull is hidden when j overtakes the one before it no later than it does.
    while (hull.size() >= 2 && cross(hull[hull.size() - 2], j) <= cross(hull[hull.size() - 2], hull.back()))
      hull.pop_back();
    hull.push_back(j);
  }
  std::vector<double> c, r;
  for (std::size_t j : hull) {
    c.push_back(centroids[j]);
    r.push_back(rate[j]);
  }
  centroids = std::move(c);
  rate = std::move(r);
  thresholds.clear();
  for (std::size_t j = 0; j + 1 < centroids.size(); ++j) thresholds.push_back(cross(j, j + 1));
}

std::size_t Quantizer::index(float v) const {
  return static_cast<std::size_t>(std::lower_bound(thresholds.begin(), thresholds.end(), double(v)) - thresholds.begin());
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

Quantizer kmeans_1d(std::vector<float> values, int k, KmeansInit init, uint64_t seed, double entropy_weight,
                    double magnitude_power) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  // Prefix sums of each value's importance |v|^p and of importance x value: a centroid is its run's weighted mean.
  std::vector<double> prefix(n + 1, 0.0), mass(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double importance = magnitude_power == 0 ? 1.0 : std::pow(std::fabs(double(values[i])), magnitude_power);
    prefix[i + 1] = prefix[i] + importance * values[i];
    mass[i + 1] = mass[i] + importance;
  }
  double mean_square = 0;
  for (float v : values) mean_square += double(v) * v / static_cast<double>(n);
  const double lambda = entropy_weight * mean_square;
  std::vector<double> c = initial(values, k, init, seed);
  c.erase(std::unique(c.begin(), c.end()), c.end());  // starts picked from repeated values
  std::vector<double> rate(c.size(), 0.0);
  std::vector<std::size_t> ends;  // of each centroid's run of the sorted values
  Quantizer q;
  // In one dimension each cluster is a run of the sorted values, so an iteration costs k binary searches
  // instead of n distance computations.
  for (int it = 0; it < 300; ++it) {
    q.centroids = c;
    q.rate = rate;
    q.build();
    std::vector<double> next;
    std::vector<std::size_t> next_ends, counts;
    std::size_t lo = 0;
    for (std::size_t j = 0; j < q.centroids.size(); ++j) {
      const std::size_t hi = j + 1 == q.centroids.size() ? n
          : static_cast<std::size_t>(std::upper_bound(values.begin(), values.end(), q.thresholds[j]) - values.begin());
      if (hi > lo && mass[hi] > mass[lo]) {
        next.push_back((prefix[hi] - prefix[lo]) / (mass[hi] - mass[lo]));
      } else if (hi > lo) {  // a run of zero importance (only exact zeros, which sharing never passes)
        next.push_back(values[lo]);
      } else if (lambda == 0) {
        next.push_back(q.centroids[j]);
      } else {
        continue;
      }
      counts.push_back(hi > lo ? hi - lo : 0);
      next_ends.push_back(std::max(lo, hi));
      lo = std::max(lo, hi);
    }
    std::vector<double> next_rate(next.size(), 0.0);
    if (lambda > 0)
      for (std::size_t j = 0; j < next.size(); ++j) next_rate[j] = lambda * std::log2(double(n) / double(counts[j]));
    std::vector<std::size_t> order(next.size());
    for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return next[a] < next[b]; });
    std::vector<double> sorted_c, sorted_rate;
    for (std::size_t j : order) {
      if (!sorted_c.empty() && sorted_c.back() == next[j]) continue;  // an empty centroid met another
      sorted_c.push_back(next[j]);
      sorted_rate.push_back(next_rate[j]);
    }
    const bool settled = sorted_c == c && next_ends == ends;
    c = std::move(sorted_c);
    rate = std::move(sorted_rate);
    ends = std::move(next_ends);
    if (settled) break;
  }
  q.centroids = c;
  q.rate = rate;
  q.build();
  return q;
}

}  // namespace squeezenet
