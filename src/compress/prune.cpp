#include "compress/prune.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "compress/gptq_assign.h"
#include "quant/gptq.h"

namespace squeezenet {

int64_t prune_by_magnitude(Tensor& w, double density) {
  const int64_t n = w.numel();
  const auto keep = static_cast<int64_t>(std::llround(std::clamp(density, 0.0, 1.0) * static_cast<double>(n)));
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // Ties broken by position, so the same weights always give the same mask.
  auto larger = [&](int64_t a, int64_t b) {
    const float x = std::fabs(w[a]), y = std::fabs(w[b]);
    return x != y ? x > y : a < b;
  };
  if (keep < n) std::nth_element(order.begin(), order.begin() + keep, order.end(), larger);
  for (int64_t i = keep; i < n; ++i) w[order[static_cast<std::size_t>(i)]] = 0.0f;
  int64_t nonzero = 0;
  for (int64_t i = 0; i < n; ++i) nonzero += w[i] != 0.0f;
  return nonzero;
}

int64_t prune_by_output_error(Tensor& w, double density, const std::vector<double>& moments) {
  const std::size_t D = moments_row_length(w, moments, "pruning");
  const quant::Elimination elimination(moments, D, kGptqDamping, true);
  std::vector<double> row(D);
  int64_t nonzero = 0;
  for (int64_t o = 0; o < w.dim(0); ++o) {
    float* out = w.data() + o * static_cast<int64_t>(D);
    for (std::size_t i = 0; i < D; ++i) row[i] = out[i];
    elimination.prune(row, std::clamp(density, 0.0, 1.0));
    for (std::size_t i = 0; i < D; ++i) nonzero += (out[i] = static_cast<float>(row[i])) != 0.0f;
  }
  return nonzero;
}

std::map<std::string, double> shaped_densities(const ModelConfig& config, double global) {
  const auto convs = conv_layers(config);
  std::vector<double> shape, numel;
  double total = 0;
  for (const ConvRef& c : convs) {
    const bool last = &c == &convs.back();
    const bool expand3x3 = c.name.find("expand3x3") != std::string::npos;
    shape.push_back(last ? 0.2 : expand3x3 ? 0.33 : 1.0);
    numel.push_back(static_cast<double>(c.spec.out_channels) * c.spec.in_channels * c.spec.kernel * c.spec.kernel);
    total += numel.back();
  }
  // The kept fraction grows monotonically with the scale, so bisection finds the one that meets the target.
  auto kept = [&](double scale) {
    double k = 0;
    for (std::size_t i = 0; i < shape.size(); ++i) k += std::min(1.0, scale * shape[i]) * numel[i];
    return k / total;
  };
  double lo = 0, hi = 5;
  for (int it = 0; it < 60; ++it) (kept((lo + hi) / 2) < global ? lo : hi) = (lo + hi) / 2;
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < convs.size(); ++i) out[convs[i].name] = std::min(1.0, hi * shape[i]);
  return out;
}

}  // namespace squeezenet
