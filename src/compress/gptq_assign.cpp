#include "compress/gptq_assign.h"

#include <algorithm>
#include <string>

#include "quant/gptq.h"
#include "squeezenet/error.h"

namespace squeezenet {

namespace {
// Entry 1.. of the codebook nearest v; of two equally near, the lower.
float nearest_nonzero(const std::vector<float>& codebook, double v) {
  const auto first = codebook.begin() + 1;
  const auto hi = std::lower_bound(first, codebook.end(), v, [](float c, double x) { return c < x; });
  if (hi == codebook.end()) return codebook.back();
  if (hi == first) return *hi;
  const auto lo = hi - 1;
  return v - *lo <= *hi - v ? *lo : *hi;
}

}  // namespace

std::size_t moments_row_length(const Tensor& w, const std::vector<double>& moments, const char* what) {
  const std::size_t D = static_cast<std::size_t>(w.numel() / w.dim(0));
  if (moments.size() != D * D)
    throw Error(std::string(what) + ": input moments of " + std::to_string(moments.size()) +
                " entries for weights of " + std::to_string(D) + " inputs per output");
  return D;
}

void assign_gptq(Tensor& w, const std::vector<float>& codebook, const std::vector<double>& moments, bool act_order,
                 const std::vector<double>& move) {
  const std::size_t D = moments_row_length(w, moments, "GPTQ");
  if (codebook.size() < 2) return;  // nothing but zeros to share
  const quant::Elimination gptq(moments, D, kGptqDamping, act_order);
  if (!move.empty() && move.size() != D * D)
    throw Error("GPTQ: a fitting move of " + std::to_string(move.size()) + " entries for weights of " +
                std::to_string(D) + " inputs per output");
  std::vector<double> weights(D), row(D);
  for (int64_t o = 0; o < w.dim(0); ++o) {
    float* out = w.data() + o * static_cast<int64_t>(D);
    for (std::size_t i = 0; i < D; ++i) weights[i] = out[i];
    quant::apply_move(move, weights, row);
    gptq.run(row, [&](std::size_t i, double v) {
      out[i] = out[i] == 0.0f ? 0.0f : nearest_nonzero(codebook, v);  // `out` still holds the mask until coded
      return static_cast<double>(out[i]);
    });
  }
}

double output_error(const Tensor& w, const Tensor& q, const std::vector<double>& moments) {
  const std::size_t D = moments_row_length(w, moments, "GPTQ");
  double total = 0.0;
  std::vector<double> d(D);
  for (int64_t o = 0; o < w.dim(0); ++o) {
    for (std::size_t i = 0; i < D; ++i)
      d[i] = static_cast<double>(w[o * static_cast<int64_t>(D) + static_cast<int64_t>(i)]) -
             q[o * static_cast<int64_t>(D) + static_cast<int64_t>(i)];
    for (std::size_t i = 0; i < D; ++i) {
      if (d[i] == 0.0) continue;
      double s = 0.0;
      for (std::size_t j = 0; j < D; ++j) s += moments[i * D + j] * d[j];
      total += d[i] * s;
    }
  }
  return total;
}

}  // namespace squeezenet
