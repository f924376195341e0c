// Mapping between the conv order every SqueezeNet file shares and torchvision's state_dict names.
#include "formats/readers.h"
#include "squeezenet/error.h"

namespace squeezenet {

std::vector<std::string> caffe_layer_names(const ModelConfig& config) {
  std::vector<std::string> names{"conv1"};
  for (int fire = 2; fire <= 9; ++fire) {
    const std::string f = "fire" + std::to_string(fire) + "/";
    names.insert(names.end(), {f + "squeeze1x1", f + "expand1x1", f + "expand3x3"});
  }
  names.push_back("conv10");
  if (names.size() != conv_layers(config).size()) throw Error("internal: caffe name table out of step");
  return names;
}

ModelConfig config_from_conv_shapes(const std::vector<Shape>& shapes, const std::string& origin) {
  if (shapes.size() != 26)
    throw Error(origin + ": has " + std::to_string(shapes.size()) + " convolutions, a SqueezeNet has 26");
  ModelConfig config;
  if (shapes[0] == Shape{96, 3, 7, 7}) {
    config.arch = Arch::squeezenet1_0;
  } else if (shapes[0] == Shape{64, 3, 3, 3}) {
    config.arch = Arch::squeezenet1_1;
  } else {
    throw Error(origin + ": first convolution has shape " + shape_str(shapes[0]) +
                ", neither squeezenet1_0's [96, 3, 7, 7] nor squeezenet1_1's [64, 3, 3, 3]");
  }
  const Shape& last = shapes.back();
  if (last.size() != 4 || last[0] < 1 || last[0] > (1 << 24))
    throw Error(origin + ": last convolution has shape " + shape_str(last) + ", expected [num_classes, 512, 1, 1]");
  config.num_classes = static_cast<int>(last[0]);
  const auto convs = conv_layers(config);
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const Conv2dSpec& s = convs[i].spec;
    const Shape want{s.out_channels, s.in_channels, s.kernel, s.kernel};
    if (shapes[i] != want)
      throw Error(origin + ": convolution " + std::to_string(i) + " (" + convs[i].name + ") has shape " +
                  shape_str(shapes[i]) + ", " + arch_name(config.arch) + " needs " + shape_str(want));
  }
  return config;
}

void add_convs_in_order(WeightFile& out, const ModelConfig& config, std::vector<Tensor> weights,
                        std::vector<Tensor> biases) {
  const auto convs = conv_layers(config);
  for (std::size_t i = 0; i < convs.size(); ++i) {
    out.tensors[convs[i].name + ".weight"] = std::move(weights.at(i));
    out.tensors[convs[i].name + ".bias"] = std::move(biases.at(i));
  }
  out.metadata["arch"] = arch_name(config.arch);
  out.metadata["num_classes"] = std::to_string(config.num_classes);
}

}  // namespace squeezenet
