#include "quant/layer_error.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "quant/taps.h"

namespace squeezenet::quant {

namespace {
struct Sums {
  double signal = 0, noise = 0, grid_noise = 0, weight_noise = 0, dot = 0, int8_energy = 0, clipped = 0, count = 0;
};

int64_t top1(const Tensor& logits) {
  return std::max_element(logits.data(), logits.data() + logits.numel()) - logits.data();
}
}  // namespace

ErrorReport layer_errors(const Model& model, const QuantizedModel& q, const std::vector<Tensor>& images) {
  std::map<std::string, float> scales{{"input", q.convs.front().input_scale}, {"logits", 0.0f}};
  for (const QuantizedConv& c : q.convs) scales[c.name] = c.output_scale;
  std::vector<std::string> order;
  std::map<std::string, Sums> sums;
  ErrorReport report;
  const Model int8_weights = dequantized_model(q);
  for (const Tensor& image : images) {
    std::map<std::string, Tensor> fp32;
    const Tensor a = forward_fp32_tapped(model, image, [&](const std::string& name, const Tensor& y) {
      fp32[name] = y;
      if (!sums.count(name)) order.push_back(name);
    });
    forward_fp32_tapped(int8_weights, image, [&](const std::string& name, const Tensor& y) {
      const Tensor& x = fp32.at(name);
      for (int64_t i = 0; i < x.numel(); ++i) sums[name].weight_noise += (static_cast<double>(y[i]) - x[i]) * (y[i] - x[i]);
    });
    const Tensor b = forward_int8_tapped(q, image, [&](const std::string& name, const Tensor& y) {
      const Tensor& x = fp32.at(name);
      const double step = scales.at(name), low = name == "input" ? -128.0 : 0.0, high = name == "input" ? 127.0 : 255.0;
      const double limit = step * (high + 0.5);  // beyond it rounding saturates
      Sums& s = sums[name];
      for (int64_t i = 0; i < x.numel(); ++i) {
        const double e = static_cast<double>(y[i]) - x[i];
        s.signal += static_cast<double>(x[i]) * x[i];
        s.noise += e * e;
        s.dot += static_cast<double>(x[i]) * y[i];
        s.int8_energy += static_cast<double>(y[i]) * y[i];
        s.clipped += limit > 0.0 && std::fabs(x[i]) > limit;
        const double g = step > 0.0 ? std::clamp(std::nearbyint(x[i] / step), low, high) * step - x[i] : 0.0;
        s.grid_noise += g * g;
      }
      s.count += static_cast<double>(x.numel());
    });
    for (int64_t n = 0; n < a.dim(0); ++n) {
      const Tensor an({a.dim(1)}, a.data() + n * a.dim(1)), bn({b.dim(1)}, b.data() + n * b.dim(1));
      report.same_top1 += top1(an) == top1(bn);
      ++report.images;
    }
  }
  const auto db = [](double signal, double noise) { return 10.0 * std::log10(signal / std::max(noise, 1e-30)); };
  for (const std::string& name : order) {
    const Sums& s = sums.at(name);
    report.layers.push_back({name, scales.at(name), db(s.signal, s.noise),
                             s.dot / std::sqrt(std::max(s.signal * s.int8_energy, 1e-30)),
                             scales.at(name) > 0.0f ? db(s.signal, s.grid_noise) : 0.0, db(s.signal, s.weight_noise),
                             s.clipped / s.count});
  }
  return report;
}

}  // namespace squeezenet::quant
