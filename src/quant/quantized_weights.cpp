// Quantized models as safetensors: I8 weights, F32 scales and biases, metadata saying what they are.
#include <cmath>

#include "quant/epilogue.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"

namespace squeezenet {

namespace {
constexpr const char* kScaleNames[] = {"weight_scale", "input_scale", "output_scale"};

Tensor vector_tensor(const std::vector<float>& v) { return Tensor({static_cast<int64_t>(v.size())}, v.data()); }
Tensor scalar_tensor(float v) { return Tensor({1}, &v); }
}  // namespace

WeightFile to_weights(const QuantizedModel& q, const std::map<std::string, std::string>& metadata) {
  WeightFile wf;
  wf.metadata = metadata;
  wf.metadata["quantization"] = "int8";
  wf.metadata["calibration"] = q.calibration;
  wf.metadata["arch"] = arch_name(q.config.arch);
  wf.metadata["num_classes"] = std::to_string(q.config.num_classes);
  wf.metadata["final_conv_pad"] = std::to_string(q.config.final_conv_pad);
  for (const QuantizedConv& c : q.convs) {
    const Conv2dSpec& s = c.spec;
    Tensor w({s.out_channels, s.in_channels, s.kernel, s.kernel});
    for (int64_t i = 0; i < w.numel(); ++i) w[i] = c.weight[static_cast<std::size_t>(i)];
    wf.tensors[c.name + ".weight"] = std::move(w);
    wf.dtypes[c.name + ".weight"] = "I8";
    wf.tensors[c.name + ".bias"] = vector_tensor(c.bias);
    wf.tensors[c.name + ".weight_scale"] = vector_tensor(c.weight_scale);
    wf.tensors[c.name + ".input_scale"] = scalar_tensor(c.input_scale);
    wf.tensors[c.name + ".output_scale"] = scalar_tensor(c.output_scale);
  }
  return wf;
}

bool is_quantized(const WeightFile& weights) {
  const auto it = weights.metadata.find("quantization");
  return it != weights.metadata.end() && it->second == "int8";
}

QuantizedModel from_quantized_weights(const WeightFile& weights, const std::string& origin) {
  // The weights and biases alone make a state_dict: Model::from_weights checks their names and shapes.
  WeightFile plain;
  plain.metadata = weights.metadata;
  plain.metadata.erase("quantization");
  std::map<std::string, Tensor> scales;
  for (const auto& [name, t] : weights.tensors) {
    bool is_scale = false;
    for (const char* s : kScaleNames) is_scale = is_scale || name.ends_with(std::string(".") + s);
    (is_scale ? scales : plain.tensors)[name] = t;
  }
  const Model shape_check = Model::from_weights(plain, origin);

  QuantizedModel q;
  q.config = shape_check.config();
  const auto cal = weights.metadata.find("calibration");
  q.calibration = cal == weights.metadata.end() ? "unknown" : cal->second;
  for (const ConvRef& c : conv_layers(q.config)) {
    const std::string where = origin + ": " + c.name;
    QuantizedConv qc;
    qc.name = c.name;
    qc.spec = c.spec;
    const Tensor& w = plain.tensors.at(c.name + ".weight");
    qc.weight.resize(static_cast<std::size_t>(w.numel()));
    for (int64_t i = 0; i < w.numel(); ++i) {
      if (!(w[i] >= -127.0f && w[i] <= 127.0f) || w[i] != std::nearbyint(w[i]))
        throw Error(where + ".weight: value " + std::to_string(w[i]) + " at index " + std::to_string(i) +
                    " is not an int8 weight in [-127, 127]");
      qc.weight[static_cast<std::size_t>(i)] = static_cast<int8_t>(w[i]);
    }
    const Tensor& b = plain.tensors.at(c.name + ".bias");
    qc.bias.assign(b.data(), b.data() + b.numel());
    auto scale = [&](const std::string& what, int64_t n, bool zero_allowed) {
      const auto it = scales.find(c.name + "." + what);
      if (it == scales.end()) throw Error(where + ": missing tensor '" + c.name + "." + what + "'");
      if (it->second.shape() != Shape{n})
        throw Error(where + "." + what + ": shape " + shape_str(it->second.shape()) + ", expected [" +
                    std::to_string(n) + "]");
      for (int64_t i = 0; i < n; ++i) {
        const float v = it->second[i];
        if (!std::isfinite(v) || v < 0.0f || (v == 0.0f && !zero_allowed))
          throw Error(where + "." + what + ": " + std::to_string(v) + " is not a positive finite scale");
      }
      Tensor t = std::move(it->second);
      scales.erase(it);
      return t;
    };
    const Tensor ws = scale("weight_scale", c.spec.out_channels, false);
    qc.weight_scale.assign(ws.data(), ws.data() + ws.numel());
    qc.input_scale = scale("input_scale", 1, false)[0];
    const bool last = c.name.starts_with("classifier.");
    qc.output_scale = scale("output_scale", 1, last)[0];
    if (last != (qc.output_scale == 0.0f))
      throw Error(where + ".output_scale: must be 0 (fp32 output) exactly for the final conv");
    qc.input_zero_point = c.name == "features.0" ? 128 : 0;
    q.convs.push_back(std::move(qc));
  }
  if (!scales.empty()) throw Error(origin + ": unexpected tensor '" + scales.begin()->first + "'");
  return q;
}

Model dequantized_model(const QuantizedModel& q) {
  Model m(q.config);
  for (std::size_t k = 0; k < q.convs.size(); ++k) {
    const QuantizedConv& c = q.convs[k];
    const std::vector<float> gains = quant::input_gains(q, k);
    Tensor& w = m.parameter(c.name + ".weight");
    const int64_t per = w.numel() / c.spec.out_channels, taps = c.spec.kernel * c.spec.kernel;
    for (int64_t i = 0; i < w.numel(); ++i)
      w[i] = c.weight[static_cast<std::size_t>(i)] * c.weight_scale[static_cast<std::size_t>(i / per)] *
             (gains.empty() ? 1.0f : gains[static_cast<std::size_t>(i % per / taps)]);
    Tensor& b = m.parameter(c.name + ".bias");
    std::copy(c.bias.begin(), c.bias.end(), b.data());
  }
  return m;
}

}  // namespace squeezenet
