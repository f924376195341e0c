#pragma once
// One reader (and, where the format can be written, one writer) per file format. Each returns tensors under
// torchvision's names; `path` is used for reading and in every error message.
#include <string>
#include <string_view>
#include <string_view>

#include "squeezenet/model.h"
#include "squeezenet/weights.h"

namespace squeezenet {

WeightFile read_safetensors(const std::string& path);
WeightFile read_safetensors_bytes(std::string_view bytes, const std::string& path);
std::string write_safetensors(const WeightFile& weights);  // the file's bytes

WeightFile read_pth(const std::string& path);          // zip (torch >= 1.6) or legacy pickle, detected
WeightFile read_pth_bytes(std::string_view bytes, const std::string& name);  // the same from memory
std::string write_pth(const WeightFile& weights);      // zip format, loadable by torch.load(weights_only=True)

WeightFile read_caffemodel(const std::string& path);
std::string write_caffemodel(const WeightFile& weights);
// The same reader on bytes already in memory (fuzzing, tests); `name` is used in error messages.
WeightFile read_caffemodel_bytes(std::string_view bytes, const std::string& name);

WeightFile read_deep_compression(const std::string& path);
WeightFile read_deep_compression_bytes(std::string_view bytes, const std::string& path);
std::string write_deep_compression(const WeightFile& weights);  // needs <= 255 distinct weights per layer
WeightFile read_npy_dir(const std::string& dir);
WeightFile read_ncnn(const std::string& param_path);  // the .bin is the .param's name with .bin
// The same reader on the .param text and .bin bytes in memory; the names are used in error messages.
WeightFile read_ncnn_bytes(std::string_view param_text, std::string_view bin_bytes, const std::string& param_name,
                           const std::string& bin_name);

WeightFile read_onnx(const std::string& path);
WeightFile read_onnx_bytes(std::string_view bytes, const std::string& name);
std::string write_onnx(const WeightFile& weights);  // opset 13, dynamic batch, runs in ONNX Runtime and OpenCV DNN

// A single .npy array (float32/float16/float64, little-endian, C order).
Tensor read_npy(const std::string& path);
Tensor read_npy_bytes(std::string_view bytes, const std::string& path);

// Caffe layer names of the forresti/SqueezeNet prototxts (conv1, fire2/squeeze1x1, ..., conv10), in forward
// order, aligned with conv_layers(): element i names conv_layers(config)[i].
std::vector<std::string> caffe_layer_names(const ModelConfig& config);

// The ModelConfig that a list of conv weight shapes in forward order describes (26 convs in both archs),
// or Error naming `origin` when the shapes are not a SqueezeNet's.
ModelConfig config_from_conv_shapes(const std::vector<Shape>& shapes, const std::string& origin);

// Puts the i-th weight/bias of a forward-ordered conv list under torchvision's names.
void add_convs_in_order(WeightFile& out, const ModelConfig& config, std::vector<Tensor> weights,
                        std::vector<Tensor> biases);

}  // namespace squeezenet
