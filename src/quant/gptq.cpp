#include "quant/gptq.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace squeezenet::quant {

namespace {
// In place: the lower Cholesky factor of the symmetric positive definite a [n, n]; false if it is not.
bool cholesky(std::vector<double>& a, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0)) return false;
    a[j * n + j] = std::sqrt(d);
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / a[j * n + j];
    }
    for (std::size_t i = 0; i < j; ++i) a[i * n + j] = 0.0;
  }
  return true;
}

// In place: H^-1 of the symmetric positive definite h, from its lower factor L (H^-1 = L^-T L^-1).
bool invert(std::vector<double>& h, std::size_t n) {
  if (!cholesky(h, n)) return false;
  std::vector<double> li(n * n, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    li[j * n + j] = 1.0 / h[j * n + j];
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = 0.0;
      for (std::size_t k = j; k < i; ++k) s -= h[i * n + k] * li[k * n + j];
      li[i * n + j] = s / h[i * n + i];
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i; j < n; ++j) {
      double s = 0.0;
      for (std::size_t k = j; k < n; ++k) s += li[k * n + i] * li[k * n + j];
      h[i * n + j] = h[j * n + i] = s;
    }
  return true;
}

// In place: the upper factor U of H^-1 = U^T U, from H^-1: GPTQ's order of elimination.
bool upper_factor(std::vector<double>& inv, std::size_t n) {
  if (!cholesky(inv, n)) return false;
  for (std::size_t i = 0; i < n; ++i)  // U = L^T
    for (std::size_t j = 0; j < i; ++j) std::swap(inv[i * n + j], inv[j * n + i]);
  return true;
}

// In place: h + fraction x its mean diagonal on the diagonal (1 where an input was never seen); false when the
// diagonal is all zero (no inputs at all).
bool damp(std::vector<double>& h, std::size_t n, double fraction) {
  double diagonal = 0.0;
  for (std::size_t i = 0; i < n; ++i) diagonal += h[i * n + i] / static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) h[i * n + i] += h[i * n + i] == 0.0 ? 1.0 : fraction * diagonal;
  return diagonal > 0.0;
}
}  // namespace

Elimination::Elimination(std::vector<double> moments, std::size_t n, double damping, bool act_order)
    : n_(n), order_(n) {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (act_order)  // stable, so that equal moments keep input order
    std::stable_sort(order_.begin(), order_.end(),
                     [&](std::size_t a, std::size_t b) { return moments[a * n + a] > moments[b * n + b]; });
  upper_.resize(n * n);
  seen_.resize(n);
  for (std::size_t k = 0; k < n; ++k) seen_[k] = moments[order_[k] * n + order_[k]] > 0.0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) upper_[i * n + j] = moments[order_[i] * n + order_[j]];
  factored_ = damp(upper_, n, damping) && invert(upper_, n) && upper_factor(upper_, n);
}

void Elimination::run(std::vector<double>& row, const std::function<double(std::size_t, double)>& round) const {
  for (std::size_t k = 0; k < n_; ++k) {
    const std::size_t i = order_[k];
    absorb(row, k, round(i, row[i]));
  }
}

void Elimination::absorb(std::vector<double>& row, std::size_t k, double q) const {
  if (!factored_) return;  // each weight alone
  const double err = (row[order_[k]] - q) / upper_[k * n_ + k];
  for (std::size_t l = k + 1; l < n_; ++l) row[order_[l]] -= err * upper_[k * n_ + l];
}

void Elimination::prune(std::vector<double>& row, double density, std::size_t block) const {
  std::vector<std::pair<double, std::size_t>> cost;
  std::vector<bool> pruned;
  for (std::size_t k0 = 0; k0 < n_; k0 += block) {
    const std::size_t k1 = std::min(n_, k0 + block), m = k1 - k0;
    cost.clear();
    for (std::size_t k = k0; k < k1; ++k) {
      const double d = factored_ ? upper_[k * n_ + k] : 1.0, v = row[order_[k]];
      cost.emplace_back(seen_[k] ? v * v / (d * d) : 0.0, k - k0);
    }
    const std::size_t drop = m - static_cast<std::size_t>(std::llround(density * static_cast<double>(m)));
    std::nth_element(cost.begin(), cost.begin() + static_cast<std::ptrdiff_t>(drop), cost.end());
    pruned.assign(m, false);
    for (std::size_t j = 0; j < m; ++j) pruned[cost[j].second] = j < drop || row[order_[k0 + cost[j].second]] == 0.0;
    for (std::size_t k = k0; k < k1; ++k) {
      if (!pruned[k - k0]) continue;
      absorb(row, k, 0.0);
      row[order_[k]] = 0.0;
    }
  }
}

void InputMoments::add(const std::string& conv, const Conv2dSpec& spec, const Tensor& x, const Tensor& x_q) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), K = spec.kernel, D = C * K * K;
  const int64_t OH = conv_output_size(H, spec.kernel, spec.stride, spec.padding);
  const int64_t OW = conv_output_size(W, spec.kernel, spec.stride, spec.padding);
  const int64_t every = std::max<int64_t>(1, OH * OW / kPixels);
  const bool apart = &x != &x_q;
  Sums& s = sums_[conv];
  s.xx.resize(static_cast<std::size_t>(D * D), 0.0);
  if (apart) s.cross.resize(static_cast<std::size_t>(D * D), 0.0);
  std::vector<double> v(static_cast<std::size_t>(D)), vq(static_cast<std::size_t>(D));
  const auto gather = [&](const Tensor& t, int64_t n, int64_t oh, int64_t ow, std::vector<double>& out) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t kh = 0; kh < K; ++kh)
        for (int64_t kw = 0; kw < K; ++kw) {
          const int64_t ih = oh * spec.stride - spec.padding + kh, iw = ow * spec.stride - spec.padding + kw;
          out[static_cast<std::size_t>((c * K + kh) * K + kw)] =
              ih < 0 || ih >= H || iw < 0 || iw >= W ? 0.0 : t[((n * C + c) * H + ih) * W + iw];
        }
  };
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < OH * OW; p += every) {
      gather(x_q, n, p / OW, p % OW, vq);
      for (int64_t i = 0; i < D; ++i) {
        const double vi = vq[static_cast<std::size_t>(i)];
        if (vi == 0.0) continue;  // post-ReLU inputs are mostly zero
        double* row = s.xx.data() + i * D;
        for (int64_t j = i; j < D; ++j) row[j] += vi * vq[static_cast<std::size_t>(j)];
      }
      if (apart) {
        gather(x, n, p / OW, p % OW, v);
        for (int64_t i = 0; i < D; ++i) {
          const double vi = v[static_cast<std::size_t>(i)];
          if (vi == 0.0) continue;
          double* row = s.cross.data() + i * D;
          for (int64_t j = 0; j < D; ++j) row[j] += vi * vq[static_cast<std::size_t>(j)];
        }
      }
      s.count += 1.0;
    }
}

std::vector<double> InputMoments::moments(const std::string& conv) const {
  const Sums& s = sums_.at(conv);
  const std::size_t n = static_cast<std::size_t>(std::sqrt(static_cast<double>(s.xx.size())));
  const double count = std::max(s.count, 1.0);
  std::vector<double> m(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i; j < n; ++j) m[i * n + j] = m[j * n + i] = s.xx[i * n + j] / count;
  return m;
}

std::vector<double> InputMoments::fit_move(const std::string& conv, const std::vector<double>& moments,
                                           const std::function<double(std::size_t)>& gain) const {
  const Sums& s = sums_.at(conv);
  const std::size_t n = static_cast<std::size_t>(std::sqrt(static_cast<double>(moments.size())));
  const double count = std::max(s.count, 1.0);
  // w + w (X X_q^T - X_q X_q^T) (X_q X_q^T + damping)^-1: the least ||w X - w' X_q||^2 + damping ||w' - w||^2. The
  // damping is strong (kFitDamping) because the calibration images are few and of few classes: fitted freely, the
  // weights learn their inputs' correlations, and on other images the error grows (README, "Sequential calibration").
  std::vector<double> move, h = moments;
  if (s.cross.empty() || !damp(h, n, kFitDamping) || !invert(h, n)) return move;
  move.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < n; ++k) {
      const double a = s.cross[i * n + k] / count * gain(i) * gain(k) - moments[i * n + k];
      if (a == 0.0) continue;
      for (std::size_t j = 0; j < n; ++j) move[i * n + j] += a * h[k * n + j];
    }
  return move;
}

void apply_move(const std::vector<double>& move, const std::vector<double>& w, std::vector<double>& row) {
  const std::size_t n = w.size();
  row = w;
  if (move.empty()) return;
  for (std::size_t i = 0; i < n; ++i)
    if (w[i] != 0.0)
      for (std::size_t j = 0; j < n; ++j) row[j] += w[i] * move[i * n + j];
}

void InputMoments::quantize(const Tensor& w, const std::vector<float>& gains, QuantizedConv& q, int levels) const {
  const int64_t O = w.dim(0), D = w.numel() / O, taps = D / w.dim(1);
  const auto gain = [&](std::size_t i) {
    return gains.empty() ? 1.0 : static_cast<double>(gains[i / static_cast<std::size_t>(taps)]);
  };
  // The second moments of the input the int8 conv reads (x_q * gain).
  const std::size_t n = static_cast<std::size_t>(D);
  std::vector<double> moments = this->moments(q.name);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) moments[i * n + j] = moments[i * n + j] * gain(i) * gain(j);
  const std::vector<double> move = fit_move(q.name, moments, gain);
  // GPTQ's own damping, 1 %, keeps the inverse well conditioned.
  const Elimination gptq(std::move(moments), n, 0.01, false);

  q.weight.resize(static_cast<std::size_t>(w.numel()));
  q.weight_scale.resize(static_cast<std::size_t>(O));
  std::vector<double> row(n), fp32(n);
  for (int64_t o = 0; o < O; ++o) {
    for (std::size_t i = 0; i < n; ++i) fp32[i] = w[o * D + static_cast<int64_t>(i)] / gain(i);
    apply_move(move, fp32, row);
    double amax = 0.0;
    for (int64_t i = 0; i < D; ++i) amax = std::max(amax, std::fabs(row[i]));
    const float scale = amax > 0.0 ? static_cast<float>(amax / levels) : 1.0f;
    q.weight_scale[static_cast<std::size_t>(o)] = scale;
    gptq.run(row, [&](std::size_t i, double v) {
      const double top = levels, r = std::clamp(std::nearbyint(v / scale), -top, top);
      q.weight[static_cast<std::size_t>(o * D) + i] = static_cast<int8_t>(r);
      return r * scale;
    });
  }
}

}  // namespace squeezenet::quant
