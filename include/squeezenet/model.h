#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "squeezenet/export.h"
#include "squeezenet/tensor.h"
#include "squeezenet/weights.h"

namespace squeezenet SQUEEZENET_API {

struct QuantizedModel;

enum class Arch { squeezenet1_0, squeezenet1_1 };

std::string arch_name(Arch arch);
Arch parse_arch(const std::string& name);  // "squeezenet1_0" / "1_0" / "1.0" ...; throws Error otherwise

struct ModelConfig {
  Arch arch = Arch::squeezenet1_1;
  int num_classes = 1000;
  float dropout = 0.5f;
  // Padding of the final 1x1 conv. torchvision: 0. The original Caffe v1.0 model (and the Deep-Compression
  // file derived from it) has pad: 1, which changes the pooled logits; weights from there record it.
  int final_conv_pad = 0;
  // Dropout at the end of `features` (the variant the SqueezeNet article's own PyTorch code builds, before the
  // classifier's Dropout). 0, as in torchvision: no such layer.
  float features_dropout = 0.0f;
};

struct Conv2dSpec {
  int in_channels = 0, out_channels = 0, kernel = 1, stride = 1, padding = 0;
};

struct FireSpec {
  int inplanes = 0, squeeze = 0, expand1x1 = 0, expand3x3 = 0;
  Conv2dSpec squeeze_conv() const { return {inplanes, squeeze, 1, 1, 0}; }
  Conv2dSpec expand1x1_conv() const { return {squeeze, expand1x1, 1, 1, 0}; }
  Conv2dSpec expand3x3_conv() const { return {squeeze, expand3x3, 3, 1, 1}; }
  int out_channels() const { return expand1x1 + expand3x3; }
};

// One module of torchvision's nn.Sequential `features` or `classifier`, under its module path.
struct Layer {
  enum class Kind { Conv2d, ReLU, MaxPool2d, Fire, Dropout, AdaptiveAvgPool2d };
  Kind kind;
  std::string name;  // "features.3", "classifier.1"
  Conv2dSpec conv;   // Conv2d only
  FireSpec fire;     // Fire only
  float p = 0.0f;    // Dropout only
};

std::string kind_name(Layer::Kind kind);

// The two published networks, module for module as torchvision.models.squeezenet builds them.
std::vector<Layer> architecture(const ModelConfig& config);

struct ConvRef {
  std::string name;  // parameter prefix: "features.0", "features.3.squeeze", "classifier.1"
  Conv2dSpec spec;
};
// Every conv in forward order, under its state_dict prefix.
std::vector<ConvRef> conv_layers(const ModelConfig& config);
// The state_dict's keys in torchvision's order: features first, weight before bias.
std::vector<std::string> parameter_names(const ModelConfig& config);

// Size of a dimension after MaxPool2d(kernel, stride, padding 0, ceil_mode=True), by PyTorch's rule: round up,
// but drop a last window that would start beyond the input.
int64_t pool_output_size(int64_t in, int kernel, int stride, bool ceil_mode = true);
int64_t conv_output_size(int64_t in, int kernel, int stride, int padding);

struct LayerSummary {
  std::string name, type;
  Shape output;      // without batch
  int64_t params;
  int64_t macs;      // multiply-accumulates for one image
};
// Shape inference for one input size; throws Error when the input is too small for the network.
std::vector<LayerSummary> summarize(const ModelConfig& config, int64_t height, int64_t width);

class Model {
 public:
  // A freshly initialised network, as torchvision initialises it: kaiming_uniform_ for every conv (default
  // arguments: bound = sqrt(6 / fan_in)), N(0, 0.01) for the final conv, zero biases, from `seed`.
  explicit Model(ModelConfig config = {}, uint64_t seed = 0);

  // Takes the architecture from the tensors' shapes (and the metadata's final_conv_pad), checks that the
  // names and shapes are exactly the state_dict's and that every value is finite. `origin` names the file
  // in error messages.
  // Int8 weights (squeezenet/quantize.h) load as the fp32 model they stand for, carrying their quantization.
  static Model from_weights(const WeightFile& weights, const std::string& origin = "weights");

  // The int8 form this model was loaded from or given, or nullptr.
  const QuantizedModel* quantization() const { return quantized_.get(); }
  void set_quantization(std::shared_ptr<const QuantizedModel> q) { quantized_ = std::move(q); }

  const ModelConfig& config() const { return config_; }
  const std::vector<Layer>& layers() const { return layers_; }

  std::vector<std::string> parameter_names() const;  // as the free parameter_names(config())
  const Tensor& parameter(const std::string& name) const;
  Tensor& parameter(const std::string& name);
  int64_t num_parameters() const;

  WeightFile to_weights(const std::string& preset = "") const;

  // Eval-mode forward (dropout is the identity): NCHW float input, [N, num_classes] logits. Each call packs
  // the weights afresh (the model stays immutable, so threads may share it); for repeated forwards keep an
  // Engine, which packs once per input shape.
  Tensor forward(const Tensor& input) const;

 private:
  ModelConfig config_;
  std::vector<Layer> layers_;
  std::map<std::string, Tensor> params_;
  std::shared_ptr<const QuantizedModel> quantized_;
};

// Checks an input tensor against the network: 4-D, 3 channels, large enough. Throws Error saying what is wrong.
void check_input(const ModelConfig& config, const Shape& shape);

}  // namespace squeezenet
