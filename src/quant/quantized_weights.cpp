// Quantized models as safetensors: I8 weights, F32 scales and biases, metadata saying what they are.
#include <algorithm>
#include <cmath>

#include "quant/epilogue.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"

namespace squeezenet {

namespace {
constexpr const char* kScaleNames[] = {"weight_scale", "input_scale", "output_scale"};

Tensor vector_tensor(const std::vector<float>& v) { return Tensor({static_cast<int64_t>(v.size())}, v.data()); }
Tensor scalar_tensor(float v) { return Tensor({1}, &v); }

// metadata keep_fp32, split at commas; each name once.
std::vector<std::string> kept_fp32_names(const WeightFile& weights, const std::string& origin) {
  std::vector<std::string> names;
  const auto it = weights.metadata.find("keep_fp32");
  if (it == weights.metadata.end()) return names;
  std::size_t at = 0;
  while (at <= it->second.size()) {
    const std::size_t comma = std::min(it->second.find(',', at), it->second.size());
    const std::string name = it->second.substr(at, comma - at);
    if (name.empty() || std::find(names.begin(), names.end(), name) != names.end())
      throw Error(origin + ": metadata keep_fp32 '" + it->second + "' is not a list of distinct conv names");
    names.push_back(name);
    at = comma + 1;
  }
  return names;
}
}  // namespace

WeightFile to_weights(const QuantizedModel& q, const std::map<std::string, std::string>& metadata) {
  WeightFile wf;
  wf.metadata = metadata;
  wf.metadata["quantization"] = "int8";
  wf.metadata["calibration"] = q.calibration;
  wf.metadata["arch"] = arch_name(q.config.arch);
  wf.metadata["num_classes"] = std::to_string(q.config.num_classes);
  wf.metadata["final_conv_pad"] = std::to_string(q.config.final_conv_pad);
  std::string kept;
  for (const QuantizedConv& c : q.convs) {
    const Conv2dSpec& s = c.spec;
    Tensor w({s.out_channels, s.in_channels, s.kernel, s.kernel});
    wf.tensors[c.name + ".bias"] = vector_tensor(c.bias);
    wf.tensors[c.name + ".input_scale"] = scalar_tensor(c.input_scale);
    wf.tensors[c.name + ".output_scale"] = scalar_tensor(c.output_scale);
    if (c.kept_fp32()) {
      std::copy(c.weight_fp32.begin(), c.weight_fp32.end(), w.data());
      wf.tensors[c.name + ".weight"] = std::move(w);
      kept += (kept.empty() ? "" : ",") + c.name;
      continue;
    }
    for (int64_t i = 0; i < w.numel(); ++i) w[i] = c.weight[static_cast<std::size_t>(i)];
    wf.tensors[c.name + ".weight"] = std::move(w);
    wf.dtypes[c.name + ".weight"] = "I8";
    wf.tensors[c.name + ".weight_scale"] = vector_tensor(c.weight_scale);
  }
  wf.metadata.erase("keep_fp32");
  if (!kept.empty()) wf.metadata["keep_fp32"] = kept;
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
  std::vector<std::string> kept = kept_fp32_names(weights, origin);
  for (const ConvRef& c : conv_layers(q.config)) {
    const std::string where = origin + ": " + c.name;
    QuantizedConv qc;
    qc.name = c.name;
    qc.spec = c.spec;
    const Tensor& w = plain.tensors.at(c.name + ".weight");
    const auto keep = std::find(kept.begin(), kept.end(), c.name);
    const auto dtype = weights.dtypes.find(c.name + ".weight");
    const bool int8 = dtype != weights.dtypes.end() && dtype->second == "I8";
    if (keep != kept.end() && int8) throw Error(where + ".weight: listed in keep_fp32 but stored as I8");
    if (keep == kept.end() && !int8) throw Error(where + ".weight: not I8, and not listed in keep_fp32");
    if (keep != kept.end()) kept.erase(keep);
    const float* bias = plain.tensors.at(c.name + ".bias").data();
    qc.bias.assign(bias, bias + c.spec.out_channels);
    if (int8) qc.weight.resize(static_cast<std::size_t>(w.numel()));
    else qc.weight_fp32.assign(w.data(), w.data() + w.numel());
    for (int64_t i = 0; int8 && i < w.numel(); ++i) {
      if (!(w[i] >= -127.0f && w[i] <= 127.0f) || w[i] != std::nearbyint(w[i]))
        throw Error(where + ".weight: value " + std::to_string(w[i]) + " at index " + std::to_string(i) +
                    " is not an int8 weight in [-127, 127]");
      qc.weight[static_cast<std::size_t>(i)] = static_cast<int8_t>(w[i]);
    }
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
    if (int8) {
      const Tensor ws = scale("weight_scale", c.spec.out_channels, false);
      qc.weight_scale.assign(ws.data(), ws.data() + ws.numel());
    }
    qc.input_scale = scale("input_scale", 1, false)[0];
    const bool last = c.name.starts_with("classifier.");
    qc.output_scale = scale("output_scale", 1, last)[0];
    if (last != (qc.output_scale == 0.0f))
      throw Error(where + ".output_scale: must be 0 (fp32 output) exactly for the final conv");
    qc.input_zero_point = c.name == "features.0" ? 128 : 0;
    q.convs.push_back(std::move(qc));
  }
  if (!kept.empty()) throw Error(origin + ": metadata keep_fp32 names '" + kept.front() + "', not a conv of the model");
  if (!scales.empty()) throw Error(origin + ": unexpected tensor '" + scales.begin()->first + "'");
  return q;
}

Model dequantized_model(const QuantizedModel& q) {
  Model m(q.config);
  for (std::size_t k = 0; k < q.convs.size(); ++k) {
    const QuantizedConv& c = q.convs[k];
    Tensor& w = m.parameter(c.name + ".weight");
    std::copy(c.bias.begin(), c.bias.end(), m.parameter(c.name + ".bias").data());
    if (c.kept_fp32()) {
      std::copy(c.weight_fp32.begin(), c.weight_fp32.end(), w.data());
      continue;
    }
    const std::vector<float> gains = quant::input_gains(q, k);
    const int64_t per = w.numel() / c.spec.out_channels, taps = c.spec.kernel * c.spec.kernel;
    for (int64_t i = 0; i < w.numel(); ++i)
      w[i] = c.weight[static_cast<std::size_t>(i)] * c.weight_scale[static_cast<std::size_t>(i / per)] *
             (gains.empty() ? 1.0f : gains[static_cast<std::size_t>(i % per / taps)]);
  }
  return m;
}

}  // namespace squeezenet
