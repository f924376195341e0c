#include "compress/sweep.h"

#include "compress/prune.h"
#include "squeezenet/error.h"

namespace squeezenet {

namespace {
double accuracy(const WeightFile& weights, const TuningSet& set) {
  const Model model = Model::from_weights(weights, "the pruned weights");
  int64_t hits = 0;
  for (std::size_t b = 0; b < set.images.size(); ++b) {
    const Tensor logits = model.forward(set.images[b]);
    const int64_t n = logits.dim(0), c = logits.dim(1);
    auto top = [c](const Tensor& t, int64_t row) {
      int64_t best = 0;
      for (int64_t k = 1; k < c; ++k)
        if (t[row * c + k] > t[row * c + best]) best = k;
      return best;
    };
    for (int64_t i = 0; i < n; ++i)
      hits += top(logits, i) == (set.labels.empty() ? top(set.teacher[b], i) : set.labels[b][static_cast<std::size_t>(i)]);
  }
  return set.count ? static_cast<double>(hits) / static_cast<double>(set.count) : 0.0;
}
}  // namespace

std::vector<SweepRow> sensitivity_sweep(const WeightFile& weights, const TuningSet& set,
                                        const std::vector<double>& densities, double tolerance, double& baseline) {
  for (double d : densities)
    if (!(d > 0.0 && d <= 1.0)) throw Error("sweep density " + std::to_string(d) + ": must be in (0, 1]");
  baseline = accuracy(weights, set);
  const ModelConfig config = Model::from_weights(weights, "the weights").config();
  std::vector<SweepRow> rows;
  for (const ConvRef& c : conv_layers(config)) {
    SweepRow row{c.name, {}, 1.0};
    for (double d : densities) {
      WeightFile pruned = weights;
      prune_by_magnitude(pruned.tensors.at(c.name + ".weight"), d);
      row.accuracy.push_back(accuracy(pruned, set));
      if (row.accuracy.back() >= baseline - tolerance) row.proposed = std::min(row.proposed, d);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace squeezenet
