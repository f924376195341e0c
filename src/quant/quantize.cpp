// Weight quantization and activation calibration.
#include <algorithm>
#include <cmath>

#include "quant/calibration_walk.h"
#include "quant/epilogue.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"
#include "util/rng.h"

namespace squeezenet {

std::string calibration_name(Calibration c) {
  switch (c) {
    case Calibration::minmax: return "minmax";
    case Calibration::percentile: return "percentile";
    case Calibration::kl: return "kl";
    case Calibration::mse: return "mse";
  }
  return "?";
}

Calibration parse_calibration(const std::string& name) {
  for (Calibration c : {Calibration::minmax, Calibration::percentile, Calibration::kl, Calibration::mse})
    if (name == calibration_name(c)) return c;
  throw Error("unknown calibration method '" + name + "' (minmax, percentile, kl, mse)");
}

std::string fitting_name(Fitting f) { return f == Fitting::sequential ? "sequential" : "independent"; }

Fitting parse_fitting(const std::string& name) {
  for (Fitting f : {Fitting::sequential, Fitting::independent})
    if (name == fitting_name(f)) return f;
  throw Error("unknown fitting '" + name + "' (sequential, independent)");
}

const QuantizedConv& QuantizedModel::conv(const std::string& name) const {
  for (const QuantizedConv& c : convs)
    if (c.name == name) return c;
  throw Error("quantized model has no conv '" + name + "'");
}

QuantizedModel quantize(const Model& model, const std::vector<Tensor>& images, Calibration rule,
                        const std::vector<std::string>& keep_fp32, Fitting fitting, int weight_bits) {
  if (images.empty()) throw Error("quantize: no calibration images");
  if (weight_bits < 2 || weight_bits > 8)
    throw Error("quantize: weight bits must be 2 to 8, not " + std::to_string(weight_bits));
  const std::vector<ConvRef> convs = conv_layers(model.config());
  for (const std::string& name : keep_fp32)
    if (std::none_of(convs.begin(), convs.end(), [&](const ConvRef& c) { return c.name == name; }))
      throw Error("quantize: no conv named '" + name + "' to keep in fp32 (names as features.0, features.3.squeeze, " +
                  "classifier.1)");
  for (const Tensor& batch : images) check_input(model.config(), batch.shape());
  QuantizedModel q;
  q.config = model.config();
  q.calibration = calibration_name(rule);
  for (const ConvRef& c : convs) {
    QuantizedConv& qc = q.convs.emplace_back();
    qc.name = c.name;
    qc.spec = c.spec;
    qc.input_zero_point = c.name == "features.0" ? 128 : 0;  // the image around its zero point, ReLU outputs from 0
  }
  quant::walk_convs(model, images, rule, fitting, q, [&](std::size_t index, const quant::ConvInputs& seen) {
    QuantizedConv& qc = q.convs[index];
    const Tensor& w = model.parameter(qc.name + ".weight");
    const Tensor& b = model.parameter(qc.name + ".bias");
    qc.bias.assign(b.data(), b.data() + b.numel());
    if (std::find(keep_fp32.begin(), keep_fp32.end(), qc.name) != keep_fp32.end()) {
      qc.weight_fp32.assign(w.data(), w.data() + w.numel());
      return;
    }
    const std::vector<float> gains = quant::input_gains(q, index);
    seen.moments.quantize(w, gains, qc, (1 << (weight_bits - 1)) - 1);
    qc.bias = seen.fp32.corrected_bias(qc, w, gains, seen.quantized);
  });
  return q;
}

std::vector<Tensor> synthetic_calibration_images(int count, int64_t size) {
  // Smooth blobs of colour over noise, in the range of normalised photos ([-2.1, 2.6]): activations then
  // spread roughly as real ones do, which white noise does not.
  Rng rng(12);
  std::vector<Tensor> out;
  for (int n = 0; n < count; ++n) {
    Tensor t({1, 3, size, size});
    for (int c = 0; c < 3; ++c) {
      const double fx = rng.uniform(1.0, 6.0), fy = rng.uniform(1.0, 6.0), ph = rng.uniform(0.0, 6.28);
      for (int64_t y = 0; y < size; ++y)
        for (int64_t x = 0; x < size; ++x) {
          const double v = std::sin(fx * x / size * 6.28 + ph) * std::cos(fy * y / size * 6.28) * 1.5 +
                           rng.uniform(-0.5, 0.5);
          t[(c * size + y) * size + x] = static_cast<float>(std::clamp(v, -2.1, 2.6));
        }
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::shared_ptr<const QuantizedModel> quantization_or_synthetic(const Model& model) {
  if (model.quantization()) return {std::shared_ptr<const QuantizedModel>{}, model.quantization()};
  // Two images give every activation a plausible range; each costs a reference forward.
  return std::make_shared<const QuantizedModel>(quantize(model, synthetic_calibration_images(2), Calibration::minmax));
}

}  // namespace squeezenet
