#include "compress/compress.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "compress/codebook.h"
#include "compress/gptq_assign.h"
#include "compress/prune.h"
#include "compress/share.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

namespace {
double number(const std::string& s, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0') throw Error(std::string(what) + ": '" + s + "' is not a number");
  return v;
}
}  // namespace

std::map<std::string, double> parse_per_layer(const std::string& text, const ModelConfig& config, const char* what,
                                              bool shaped) {
  std::map<std::string, double> out;
  std::string names;
  for (const ConvRef& c : conv_layers(config)) names += (names.empty() ? "" : ", ") + c.name;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) {
      const double v = number(item, what);
      if (shaped) {
        out = shaped_densities(config, v);
      } else {
        for (const ConvRef& c : conv_layers(config)) out[c.name] = v;
      }
      continue;
    }
    std::string layer = item.substr(0, eq);
    if (layer.size() > 7 && layer.compare(layer.size() - 7, 7, ".weight") == 0) layer.resize(layer.size() - 7);
    bool known = false;
    for (const ConvRef& c : conv_layers(config)) known |= c.name == layer;
    if (!known) throw Error(std::string(what) + ": no conv layer '" + layer + "' (layers: " + names + ")");
    out[layer] = number(item.substr(eq + 1), what);
  }
  return out;
}

WeightFile compress_weights(const WeightFile& in, const ModelConfig& config, const CompressOptions& options) {
  WeightFile out = in;  // layers left alone keep the codebook they came with
  for (const ConvRef& c : conv_layers(config)) {
    Tensor& w = out.tensors.at(c.name + ".weight");
    const auto d = options.density.find(c.name);
    const auto b = options.bits.find(c.name);
    const quant::InputMoments* moments =
        options.moments && (b != options.bits.end() || (d != options.density.end() && options.prune_by_moments))
            ? &options.moments(c.name, out)
            : nullptr;
    if (d != options.density.end()) {
      if (!(d->second > 0.0 && d->second <= 1.0))
        throw Error("--density " + c.name + "=" + std::to_string(d->second) + ": must be in (0, 1]");
      if (options.prune_by_moments) {
        if (!moments) throw Error("pruning by input moments needs the moments (--gptq DIR)");
        prune_by_output_error(w, d->second, moments->moments(c.name));
      } else {
        prune_by_magnitude(w, d->second);
      }
    }
    if (b != options.bits.end()) {
      const auto e = options.entropy_weight.find(c.name);
      const Tensor before = moments ? w : Tensor{};
      const std::vector<float>& codebook = out.codebooks[c.name + ".weight"] =
          share_weights(w, b->second, options.init, options.half, options.seed,
                        e == options.entropy_weight.end() ? 0.0 : e->second, options.magnitude_power);
      if (moments) {
        w = before;
        const std::vector<double> h = moments->moments(c.name);
        assign_gptq(w, codebook, h, true, moments->fit_move(c.name, h, [](std::size_t) { return 1.0; }));
      }
    }
  }
  if (options.half) round_to_half(out, config);
  return out;
}

void round_to_half(WeightFile& weights, const ModelConfig& config) {
  auto round = [](float v) { return half_to_float(float_to_half(v)); };
  for (const ConvRef& c : conv_layers(config)) {
    Tensor& bias = weights.tensors.at(c.name + ".bias");
    for (int64_t i = 0; i < bias.numel(); ++i) bias[i] = round(bias[i]);
    const auto cb = weights.codebooks.find(c.name + ".weight");
    if (cb == weights.codebooks.end()) continue;
    Tensor& w = weights.tensors.at(c.name + ".weight");
    const std::vector<uint8_t> codes = codes_for(w, cb->second);
    for (std::size_t j = 1; j < cb->second.size(); ++j) {
      // A centroid that rounds to zero would prune its weights; the nearest non-zero float keeps them.
      const float h = round(cb->second[j]);
      cb->second[j] = h != 0.0f ? h : std::copysign(std::numeric_limits<float>::denorm_min(), cb->second[j]);
    }
    for (int64_t i = 0; i < w.numel(); ++i) w[i] = cb->second[codes[static_cast<std::size_t>(i)]];
  }
}

}  // namespace squeezenet
