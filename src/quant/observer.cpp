#include "quant/observer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace squeezenet::quant {

void Histogram::add(const float* v, int64_t n) {
  float batch_max = 0.0f;
  for (int64_t i = 0; i < n; ++i) batch_max = std::max(batch_max, std::fabs(v[i]));
  if (!(batch_max < std::numeric_limits<float>::infinity())) batch_max = std::numeric_limits<float>::max();
  if (range_ == 0.0) range_ = batch_max > 0.0f ? batch_max * (1.0 + 1e-6) : 0.0;
  while (batch_max >= range_ && range_ > 0.0) {
    for (int i = 0; i < kBins / 2; ++i) bins_[i] = bins_[2 * i] + bins_[2 * i + 1];
    std::fill(bins_.begin() + kBins / 2, bins_.end(), 0.0);
    range_ *= 2.0;
  }
  max_ = std::max(max_, static_cast<double>(batch_max));
  total_ += static_cast<double>(n);
  if (range_ == 0.0) {
    bins_[0] += static_cast<double>(n);
    zeros_ += static_cast<double>(n);
    return;
  }
  const double per_bin = kBins / range_;
  for (int64_t i = 0; i < n; ++i) {
    const double a = std::fabs(v[i]);
    zeros_ += a == 0.0;
    bins_[static_cast<std::size_t>(std::min<double>(a * per_bin, kBins - 1))] += 1.0;  // NaN lands in bin 0
  }
}

double Histogram::threshold(Calibration rule, int levels) const {
  if (max_ <= 0.0) return 0.0;
  switch (rule) {
    case Calibration::minmax: return max_;
    case Calibration::percentile: return std::min(max_, percentile(0.9999));
    case Calibration::mse: return std::min(max_, least_squares(levels));
    case Calibration::kl: return std::min(max_, least_divergence(levels));
  }
  return max_;
}

double Histogram::percentile(double fraction) const {
  const double width = range_ / kBins;
  double seen = 0.0;
  for (int i = 0; i < kBins; ++i) {
    seen += bins_[i];
    if (seen >= fraction * total_) return (i + 1) * width;
  }
  return range_;
}

// Each bin's values taken at its centre: clipped above the threshold, else off by the uniform rounding error,
// except the exact zeros.
double Histogram::least_squares(int levels) const {
  const double width = range_ / kBins;
  double best = range_, best_error = std::numeric_limits<double>::infinity();
  for (int t = 8; t <= kBins; ++t) {
    const double threshold = t * width, step = threshold / levels;
    double error = 0.0;
    for (int i = 0; i < kBins; ++i) {
      const double count = i == 0 ? bins_[0] - zeros_ : bins_[i];
      if (count <= 0.0) continue;
      const double centre = (i + 0.5) * width;
      error += count * (centre > threshold ? (centre - threshold) * (centre - threshold) : step * step / 12.0);
    }
    if (error < best_error) best_error = error, best = threshold;
  }
  return best;
}

// TensorRT's entropy calibration: P is the histogram clipped at t bins (the rest added to the last bin), Q is P
// merged into `levels` + 1 buckets and spread back over P's non-empty bins; the t with the least KL(P || Q) wins.
double Histogram::least_divergence(int levels) const {
  const double width = range_ / kBins;
  const int buckets = levels + 1;
  double best = range_, best_kl = std::numeric_limits<double>::infinity();
  std::vector<double> p, q;
  for (int t = buckets; t <= kBins; ++t) {
    p.assign(bins_.begin(), bins_.begin() + t);
    for (int i = t; i < kBins; ++i) p[t - 1] += bins_[i];
    q.assign(static_cast<std::size_t>(t), 0.0);
    for (int b = 0; b < buckets; ++b) {
      const int lo = static_cast<int>(static_cast<int64_t>(b) * t / buckets);
      const int hi = static_cast<int>(static_cast<int64_t>(b + 1) * t / buckets);
      double sum = 0.0;
      int nonzero = 0;
      for (int i = lo; i < hi; ++i) sum += bins_[i], nonzero += bins_[i] > 0.0;
      for (int i = lo; i < hi; ++i) q[i] = bins_[i] > 0.0 ? sum / nonzero : 0.0;
    }
    double p_sum = 0.0, q_sum = 0.0;
    for (int i = 0; i < t; ++i) p_sum += p[i], q_sum += q[i];
    if (p_sum <= 0.0 || q_sum <= 0.0) continue;
    double kl = 0.0;
    for (int i = 0; i < t; ++i) {
      if (p[i] <= 0.0) continue;
      // A bin Q leaves empty (the tail folded into the last bin) gets a small floor, as TensorRT smooths.
      const double pi = p[i] / p_sum, qi = std::max(q[i] / q_sum, 1e-12);
      kl += pi * std::log(pi / qi);
    }
    if (kl < best_kl) best_kl = kl, best = t * width;
  }
  return best;
}

}  // namespace squeezenet::quant
