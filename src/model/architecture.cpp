// The two published SqueezeNets, written as torchvision's squeezenet.py writes them.
#include <algorithm>
#include <cctype>

#include "squeezenet/error.h"
#include "squeezenet/model.h"

namespace squeezenet {

std::string arch_name(Arch arch) {
  return arch == Arch::squeezenet1_0 ? "squeezenet1_0" : "squeezenet1_1";
}

Arch parse_arch(const std::string& name) {
  std::string n;
  for (char c : name)
    if (std::isdigit(static_cast<unsigned char>(c))) n += c;
  if (n == "10") return Arch::squeezenet1_0;
  if (n == "11") return Arch::squeezenet1_1;
  throw Error("unknown architecture " + quote_input(name) + " (expected squeezenet1_0 or squeezenet1_1)");
}

std::string kind_name(Layer::Kind kind) {
  switch (kind) {
    case Layer::Kind::Conv2d: return "Conv2d";
    case Layer::Kind::ReLU: return "ReLU";
    case Layer::Kind::MaxPool2d: return "MaxPool2d";
    case Layer::Kind::Fire: return "Fire";
    case Layer::Kind::Dropout: return "Dropout";
    case Layer::Kind::AdaptiveAvgPool2d: return "AdaptiveAvgPool2d";
  }
  return "?";
}

std::vector<Layer> architecture(const ModelConfig& config) {
  if (config.num_classes < 1) throw Error("num_classes must be at least 1");
  if (!(config.dropout >= 0.0f && config.dropout <= 1.0f)) throw Error("dropout must be in [0, 1]");
  if (!(config.features_dropout >= 0.0f && config.features_dropout <= 1.0f))
    throw Error("features dropout must be in [0, 1]");
  using K = Layer::Kind;
  std::vector<Layer> layers;
  auto add = [&](K kind) -> Layer& {
    const std::string prefix = "features.";
    layers.push_back(Layer{kind, prefix + std::to_string(layers.size()), {}, {}, 0.0f});
    return layers.back();
  };
  auto fire = [&](int in, int s, int e1, int e3) { add(K::Fire).fire = {in, s, e1, e3}; };
  if (config.arch == Arch::squeezenet1_0) {
    add(K::Conv2d).conv = {3, 96, 7, 2, 0};
    add(K::ReLU);
    add(K::MaxPool2d);
    fire(96, 16, 64, 64);
    fire(128, 16, 64, 64);
    fire(128, 32, 128, 128);
    add(K::MaxPool2d);
    fire(256, 32, 128, 128);
    fire(256, 48, 192, 192);
    fire(384, 48, 192, 192);
    fire(384, 64, 256, 256);
    add(K::MaxPool2d);
    fire(512, 64, 256, 256);
  } else {
    add(K::Conv2d).conv = {3, 64, 3, 2, 0};
    add(K::ReLU);
    add(K::MaxPool2d);
    fire(64, 16, 64, 64);
    fire(128, 16, 64, 64);
    add(K::MaxPool2d);
    fire(128, 32, 128, 128);
    fire(256, 32, 128, 128);
    add(K::MaxPool2d);
    fire(256, 48, 192, 192);
    fire(384, 48, 192, 192);
    fire(384, 64, 256, 256);
    fire(512, 64, 256, 256);
  }
  if (config.features_dropout > 0.0f) add(K::Dropout).p = config.features_dropout;
  layers.push_back({K::Dropout, "classifier.0", {}, {}, config.dropout});
  layers.push_back({K::Conv2d, "classifier.1", {512, config.num_classes, 1, 1, config.final_conv_pad}, {}, 0.0f});
  layers.push_back({K::ReLU, "classifier.2", {}, {}, 0.0f});
  layers.push_back({K::AdaptiveAvgPool2d, "classifier.3", {}, {}, 0.0f});
  return layers;
}

std::vector<ConvRef> conv_layers(const ModelConfig& config) {
  std::vector<ConvRef> convs;
  for (const Layer& l : architecture(config)) {
    if (l.kind == Layer::Kind::Conv2d) convs.push_back({l.name, l.conv});
    if (l.kind == Layer::Kind::Fire) {
      convs.push_back({l.name + ".squeeze", l.fire.squeeze_conv()});
      convs.push_back({l.name + ".expand1x1", l.fire.expand1x1_conv()});
      convs.push_back({l.name + ".expand3x3", l.fire.expand3x3_conv()});
    }
  }
  return convs;
}

std::vector<std::string> parameter_names(const ModelConfig& config) {
  std::vector<std::string> names;
  for (const ConvRef& c : conv_layers(config)) {
    names.push_back(c.name + ".weight");
    names.push_back(c.name + ".bias");
  }
  return names;
}

int64_t conv_output_size(int64_t in, int kernel, int stride, int padding) {
  const int64_t span = in + 2 * padding - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

int64_t pool_output_size(int64_t in, int kernel, int stride, bool ceil_mode) {
  // PyTorch's pooling_output_shape with padding 0: floor division (towards -inf), rounded up in ceil mode...
  const int64_t num = in - kernel + (ceil_mode ? stride - 1 : 0);
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  // ...but the last window must start inside the input.
  if (ceil_mode && out > 0 && (out - 1) * stride >= in) --out;
  return out < 0 ? 0 : out;
}

std::vector<LayerSummary> summarize(const ModelConfig& config, int64_t height, int64_t width) {
  std::vector<LayerSummary> rows;
  int64_t c = 3, h = height, w = width;
  auto too_small = [&](const std::string& where) {
    return Error("input " + std::to_string(height) + "x" + std::to_string(width) + " is too small for " +
                 arch_name(config.arch) + ": nothing is left after " + where);
  };
  auto conv_macs = [](const Conv2dSpec& s, int64_t oh, int64_t ow) {
    return static_cast<int64_t>(s.out_channels) * oh * ow * s.in_channels * s.kernel * s.kernel;
  };
  auto conv_params = [](const Conv2dSpec& s) {
    return static_cast<int64_t>(s.out_channels) * (s.in_channels * s.kernel * s.kernel + 1);
  };
  for (const Layer& l : architecture(config)) {
    LayerSummary r{l.name, kind_name(l.kind), {}, 0, 0};
    switch (l.kind) {
      case Layer::Kind::Conv2d:
        h = conv_output_size(h, l.conv.kernel, l.conv.stride, l.conv.padding);
        w = conv_output_size(w, l.conv.kernel, l.conv.stride, l.conv.padding);
        if (h < 1 || w < 1) throw too_small(l.name);
        c = l.conv.out_channels;
        r.params = conv_params(l.conv);
        r.macs = conv_macs(l.conv, h, w);
        break;
      case Layer::Kind::MaxPool2d:
        h = pool_output_size(h, 3, 2);
        w = pool_output_size(w, 3, 2);
        if (h < 1 || w < 1) throw too_small(l.name);
        break;
      case Layer::Kind::Fire:
        for (const Conv2dSpec& s : {l.fire.squeeze_conv(), l.fire.expand1x1_conv(), l.fire.expand3x3_conv()}) {
          r.params += conv_params(s);
          r.macs += conv_macs(s, h, w);
        }
        c = l.fire.out_channels();
        break;
      case Layer::Kind::AdaptiveAvgPool2d:
        h = w = 1;
        break;
      case Layer::Kind::ReLU:
      case Layer::Kind::Dropout:
        break;
    }
    r.output = {c, h, w};
    rows.push_back(r);
  }
  return rows;
}

void check_input(const ModelConfig& config, const Shape& shape) {
  if (shape.size() != 4)
    throw Error("input must be 4-D [N, 3, H, W], got " + shape_str(shape));
  if (shape[0] < 1) throw Error("input batch must be at least 1, got " + shape_str(shape));
  if (shape[1] != 3) throw Error("input must have 3 channels, got " + shape_str(shape));
  summarize(config, shape[2], shape[3]);
}

}  // namespace squeezenet
