// Weight quantization and activation calibration.
#include <algorithm>
#include <cmath>
#include <map>

#include "kernels/reference/reference.h"
#include "quant/observer.h"
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

const QuantizedConv& QuantizedModel::conv(const std::string& name) const {
  for (const QuantizedConv& c : convs)
    if (c.name == name) return c;
  throw Error("quantized model has no conv '" + name + "'");
}

namespace {

// s8 per output channel, symmetric: the channel's largest |w| maps to 127.
void quantize_weights(const Tensor& w, QuantizedConv& q) {
  const int64_t O = w.dim(0), per = w.numel() / O;
  q.weight.resize(static_cast<std::size_t>(w.numel()));
  q.weight_scale.resize(static_cast<std::size_t>(O));
  for (int64_t o = 0; o < O; ++o) {
    float amax = 0.0f;
    for (int64_t i = 0; i < per; ++i) amax = std::max(amax, std::fabs(w[o * per + i]));
    const float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    q.weight_scale[static_cast<std::size_t>(o)] = scale;
    for (int64_t i = 0; i < per; ++i)
      q.weight[static_cast<std::size_t>(o * per + i)] =
          static_cast<int8_t>(std::clamp(std::nearbyint(w[o * per + i] / scale), -127.0f, 127.0f));
  }
}

// The fp32 reference forward, reporting each activation that gets a scale: the image, every conv's output after
// its ReLU, and each Fire's concatenated output (under the Fire's name).
struct Observers {
  std::map<std::string, quant::Histogram> hist;

  Tensor conv_relu(const Model& m, const Tensor& x, const std::string& name, const Conv2dSpec& s, bool observe) {
    Tensor y = ref::conv2d(x, m.parameter(name + ".weight"), m.parameter(name + ".bias"), s.stride, s.padding);
    ref::relu_(y);
    if (observe) hist[name].add(y.data(), y.numel());
    return y;
  }

  void run(const Model& m, const Tensor& input) {
    hist["input"].add(input.data(), input.numel());
    Tensor x = input;
    for (const Layer& l : m.layers()) {
      if (l.kind == Layer::Kind::Conv2d && l.name == "features.0") x = conv_relu(m, x, l.name, l.conv, true);
      if (l.kind == Layer::Kind::MaxPool2d) x = ref::max_pool2d_ceil(x, 3, 2);
      if (l.kind == Layer::Kind::Fire) {
        const Tensor s = conv_relu(m, x, l.name + ".squeeze", l.fire.squeeze_conv(), true);
        const Tensor e1 = conv_relu(m, s, l.name + ".expand1x1", l.fire.expand1x1_conv(), false);
        const Tensor e3 = conv_relu(m, s, l.name + ".expand3x3", l.fire.expand3x3_conv(), false);
        x = ref::concat_channels(e1, e3);
        hist[l.name].add(x.data(), x.numel());
      }
    }
  }

  float scale(const std::string& name, Calibration rule, int levels) const {
    const double t = hist.at(name).threshold(rule, levels);
    return t > 0.0 ? static_cast<float>(t / levels) : 1.0f;
  }
};

}  // namespace

QuantizedModel quantize(const Model& model, const std::vector<Tensor>& images, Calibration rule) {
  if (images.empty()) throw Error("quantize: no calibration images");
  Observers obs;
  for (const Tensor& batch : images) {
    check_input(model.config(), batch.shape());
    obs.run(model, batch);
  }
  QuantizedModel q;
  q.config = model.config();
  q.calibration = calibration_name(rule);
  // The activation each conv reads and the one it writes, in forward order.
  float current = obs.scale("input", rule, 127);
  for (const ConvRef& c : conv_layers(model.config())) {
    QuantizedConv qc;
    qc.name = c.name;
    qc.spec = c.spec;
    quantize_weights(model.parameter(c.name + ".weight"), qc);
    const Tensor& b = model.parameter(c.name + ".bias");
    qc.bias.assign(b.data(), b.data() + b.numel());
    qc.input_scale = current;
    qc.input_zero_point = c.name == "features.0" ? 128 : 0;
    const std::string fire = c.name.substr(0, c.name.rfind('.'));
    if (c.name == "features.0" || c.name.ends_with(".squeeze"))
      qc.output_scale = obs.scale(c.name, rule, 255);
    else if (c.name.ends_with(".expand1x1") || c.name.ends_with(".expand3x3"))
      qc.output_scale = obs.scale(fire, rule, 255);
    else
      qc.output_scale = 0.0f;  // the final conv: fp32 logits
    if (c.name.ends_with(".expand3x3") || c.name == "features.0" || c.name.ends_with(".squeeze"))
      current = qc.output_scale;
    q.convs.push_back(std::move(qc));
  }
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
