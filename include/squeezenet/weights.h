#pragma once
#include <map>
#include <string>
#include <vector>

#include "squeezenet/export.h"
#include "squeezenet/tensor.h"

namespace squeezenet SQUEEZENET_API {

// Every reader produces this: tensors under torchvision's state_dict names, whatever the file called them,
// plus string metadata. Well-known metadata keys:
//   arch            squeezenet1_0 | squeezenet1_1
//   num_classes     decimal
//   preset          preprocessing the weights expect: torchvision | caffe | tflite
//   final_conv_pad  "1" for the Caffe v1.0 head (conv10 has pad: 1 on a 1x1 kernel), else absent or "0"
//   source          free text: where the weights came from
struct WeightFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
  // Weight-shared tensors (.net, .sqz): the codebook each was decoded from, entry 0 = 0.0 for pruned weights,
  // in the file's order. Writers of shared formats reuse it so that re-encoding keeps every code.
  std::map<std::string, std::vector<float>> codebooks;
  // Storage type of a tensor in safetensors when not F32: "I8" for quantized weights (integer values in
  // [-128, 127]), as read and as to write.
  std::map<std::string, std::string> dtypes;
};

enum class Format {
  safetensors,       // read + write: the project's own format
  pth,               // torch.save zip (torch >= 1.6), read + write
  pth_legacy,        // torch.save legacy pickle (the official 2017 torchvision files), read
  caffemodel,        // Caffe NetParameter protobuf, read + write (needs a prototxt-free layer naming)
  deep_compression,  // Han et al.'s compressed_SqueezeNet.net, read + write
  npy_dir,           // a folder of MXNet-Gluon-named .npy files (ONNX model zoo squeezenet1.1), read
  ncnn,              // ncnn .param + .bin (fp32 or fp16 storage), read
  sqz,               // the project's compressed format (docs/sqz-format.md), read + write
  onnx,              // ONNX ModelProto: read (torchvision exports, the ONNX model zoo's graphs) + write (opset 13)
};

std::string format_name(Format f);
// Parses a --format value; throws Error naming the accepted values otherwise.
Format parse_format(const std::string& name);

// Looks at the file's bytes (and for folders, their contents) to decide its format.
Format detect_format(const std::string& path);

WeightFile load_weights(const std::string& path);
WeightFile load_weights(const std::string& path, Format format);

// Writes atomically: a temporary file beside `path`, flushed and fsync'ed, then renamed over it.
void save_weights(const WeightFile& weights, const std::string& path, Format format);
// The format a file name asks for when writing (.safetensors, .pth, .caffemodel, .onnx); throws otherwise.
Format format_for_output(const std::string& path);

}  // namespace squeezenet
