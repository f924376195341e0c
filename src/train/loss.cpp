#include "train/loss.h"

#include <cmath>

#include "squeezenet/error.h"

namespace squeezenet {
namespace train {

LossResult cross_entropy_over(const Tensor& logits, const std::vector<int>& labels, float label_smoothing,
                              double images) {
  if (logits.ndim() != 2 || logits.dim(0) != static_cast<int64_t>(labels.size()) || labels.empty())
    throw Error("cross_entropy: logits " + shape_str(logits.shape()) + " for " + std::to_string(labels.size()) +
                " labels");
  if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f)) throw Error("label smoothing must be in [0, 1]");
  const int64_t N = logits.dim(0), K = logits.dim(1);
  LossResult r;
  r.grad = Tensor(logits.shape());
  const double eps = label_smoothing, off = eps / static_cast<double>(K);
  for (int64_t n = 0; n < N; ++n) {
    const int y = labels[static_cast<std::size_t>(n)];
    if (y < 0 || y >= K)
      throw Error("cross_entropy: label " + std::to_string(y) + " outside the " + std::to_string(K) + " classes");
    const float* z = logits.data() + n * K;
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (z[k] > z[best]) best = k;
    if (best == y) ++r.correct;
    double sum = 0.0;
    for (int64_t k = 0; k < K; ++k) sum += std::exp(static_cast<double>(z[k]) - z[best]);
    const double log_sum = z[best] + std::log(sum);
    double mean_neg_log_p = 0.0;
    for (int64_t k = 0; k < K; ++k) {
      const double log_p = z[k] - log_sum;
      mean_neg_log_p -= log_p / static_cast<double>(K);
      const double target = (k == y ? 1.0 - eps : 0.0) + off;
      r.grad[n * K + k] = static_cast<float>((std::exp(log_p) - target) / images);
    }
    r.loss += (1.0 - eps) * (log_sum - z[y]) + eps * mean_neg_log_p;
  }
  r.loss /= static_cast<double>(N);
  return r;
}

}  // namespace train

LossResult cross_entropy(const Tensor& logits, const std::vector<int>& labels, float label_smoothing, float scale) {
  return train::cross_entropy_over(logits, labels, label_smoothing, static_cast<double>(labels.size()) * scale);
}

}  // namespace squeezenet
