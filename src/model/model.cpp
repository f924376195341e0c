#include <cmath>
#include <set>

#include "squeezenet/error.h"
#include "squeezenet/engine.h"
#include "squeezenet/model.h"
#include "squeezenet/quantize.h"
#include "util/rng.h"

namespace squeezenet {

Model::Model(ModelConfig config, uint64_t seed) : config_(config), layers_(architecture(config)) {
  Rng rng(seed);
  for (const ConvRef& c : conv_layers(config_)) {
    const Conv2dSpec& s = c.spec;
    Tensor w({s.out_channels, s.in_channels, s.kernel, s.kernel});
    if (c.name == "classifier.1") {
      for (int64_t i = 0; i < w.numel(); ++i) w[i] = static_cast<float>(0.01 * rng.normal());
    } else {
      // kaiming_uniform_(a=0, mode="fan_in", nonlinearity="leaky_relu"): gain sqrt(2), bound gain*sqrt(3/fan_in)
      const double bound = std::sqrt(6.0 / (s.in_channels * s.kernel * s.kernel));
      for (int64_t i = 0; i < w.numel(); ++i) w[i] = static_cast<float>(rng.uniform(-bound, bound));
    }
    params_[c.name + ".weight"] = std::move(w);
    params_[c.name + ".bias"] = Tensor({s.out_channels});
  }
}

std::vector<std::string> Model::parameter_names() const { return squeezenet::parameter_names(config_); }

const Tensor& Model::parameter(const std::string& name) const {
  auto it = params_.find(name);
  if (it == params_.end()) throw Error("no parameter named " + quote_input(name));
  return it->second;
}

Tensor& Model::parameter(const std::string& name) {
  return const_cast<Tensor&>(static_cast<const Model*>(this)->parameter(name));
}

int64_t Model::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : params_) n += t.numel();
  return n;
}

WeightFile Model::to_weights(const std::string& preset) const {
  WeightFile wf;
  wf.tensors = params_;
  wf.metadata["arch"] = arch_name(config_.arch);
  wf.metadata["num_classes"] = std::to_string(config_.num_classes);
  if (config_.final_conv_pad != 0) wf.metadata["final_conv_pad"] = std::to_string(config_.final_conv_pad);
  if (!preset.empty()) wf.metadata["preset"] = preset;
  return wf;
}

Tensor Model::forward(const Tensor& input) const { return Engine(*this).forward(input); }

Model Model::from_weights(const WeightFile& weights, const std::string& origin) {
  if (is_quantized(weights)) {
    auto q = std::make_shared<const QuantizedModel>(from_quantized_weights(weights, origin));
    Model model = dequantized_model(*q);
    model.quantized_ = std::move(q);
    return model;
  }
  const auto& t = weights.tensors;
  auto first = t.find("features.0.weight");
  auto last = t.find("classifier.1.weight");
  if (first == t.end() || last == t.end())
    throw Error(origin + ": not a SqueezeNet state_dict: missing tensor '" +
                (first == t.end() ? "features.0.weight" : "classifier.1.weight") + "'");
  ModelConfig config;
  const Shape& s0 = first->second.shape();
  if (s0 == Shape{96, 3, 7, 7}) {
    config.arch = Arch::squeezenet1_0;
  } else if (s0 == Shape{64, 3, 3, 3}) {
    config.arch = Arch::squeezenet1_1;
  } else {
    throw Error(origin + ": tensor 'features.0.weight' has shape " + shape_str(s0) +
                ", which is neither squeezenet1_0's [96, 3, 7, 7] nor squeezenet1_1's [64, 3, 3, 3]");
  }
  if (auto a = weights.metadata.find("arch"); a != weights.metadata.end() && parse_arch(a->second) != config.arch)
    throw Error(origin + ": metadata says arch " + a->second + " but the tensors are " + arch_name(config.arch));
  const Shape& sl = last->second.shape();
  if (sl.size() != 4 || sl[0] < 1 || sl[0] > (1 << 24))
    throw Error(origin + ": tensor 'classifier.1.weight' has shape " + shape_str(sl) +
                ", expected [num_classes, 512, 1, 1]");
  config.num_classes = static_cast<int>(sl[0]);
  if (auto p = weights.metadata.find("final_conv_pad"); p != weights.metadata.end()) {
    if (p->second != "0" && p->second != "1")
      throw Error(origin + ": metadata final_conv_pad must be 0 or 1, got " + quote_input(p->second));
    config.final_conv_pad = p->second == "1" ? 1 : 0;
  }

  Model model(config);
  std::set<std::string> expected;
  for (const std::string& name : model.parameter_names()) {
    expected.insert(name);
    auto it = t.find(name);
    if (it == t.end()) throw Error(origin + ": missing tensor " + quote_input(name) + " for " + arch_name(config.arch));
    Tensor& p = model.params_[name];
    if (it->second.shape() != p.shape())
      throw Error(origin + ": tensor " + quote_input(name) + " has shape " + shape_str(it->second.shape()) + ", expected " +
                  shape_str(p.shape()));
    for (int64_t i = 0; i < it->second.numel(); ++i)
      if (!std::isfinite(it->second[i]))
        throw Error(origin + ": tensor " + quote_input(name) + " holds a non-finite value (" +
                    std::to_string(it->second[i]) + ") at index " + std::to_string(i));
    p = it->second;
  }
  for (const auto& [name, tensor] : t)
    if (!expected.count(name))
      throw Error(origin + ": unexpected tensor " + quote_input(name) + " (not in " + arch_name(config.arch) + "'s state_dict)");
  return model;
}

}  // namespace squeezenet
