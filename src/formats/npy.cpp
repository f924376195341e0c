// NumPy .npy arrays, and the ONNX-model-zoo SqueezeNet 1.1 stored as one .npy per tensor (MXNet Gluon names
// squeezenet0_conv{0..25}_{weight,bias}, in forward order).
#include <filesystem>
#include <regex>

#include "formats/readers.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

Tensor read_npy(const std::string& path) { return read_npy_bytes(read_file(path), path); }

Tensor read_npy_bytes(std::string_view bytes, const std::string& path) {
  ByteReader r(bytes, path);
  if (r.take(6, "magic") != std::string_view("\x93NUMPY", 6)) throw Error(path + ": not a .npy file (bad magic)");
  const auto major = r.read<uint8_t>("version");
  r.read<uint8_t>("version");
  const uint32_t header_len = major == 1 ? r.read<uint16_t>("header length") : r.read<uint32_t>("header length");
  const std::string header(r.take(header_len, "header"));

  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr':\s*'([<>|=])([fiu])(\d+)')")))
    throw Error(path + ": .npy header has no dtype");
  const std::string kind = m[2].str() + m[3].str();
  if (m[1] == ">" || (kind != "f4" && kind != "f2" && kind != "f8"))
    throw Error(path + ": dtype " + m[1].str() + kind + " is not supported (little-endian float16/32/64 are)");
  if (std::regex_search(header, std::regex(R"('fortran_order':\s*True)")))
    throw Error(path + ": Fortran-ordered arrays are not supported");
  if (!std::regex_search(header, m, std::regex(R"('shape':\s*\(([^)]*)\))")))
    throw Error(path + ": .npy header has no shape");
  Shape shape;
  const std::string dims = m[1].str();
  const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
    if (it->str().size() > 12) throw Error(path + ": dimension " + it->str() + " is implausible");
    shape.push_back(std::stoll(it->str()));
  }
  int64_t n = 0;
  try {
    n = numel_of(shape);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  const uint64_t width = kind == "f4" ? 4 : kind == "f2" ? 2 : 8;
  if (r.remaining() != static_cast<uint64_t>(n) * width)
    throw Error(path + ": holds " + std::to_string(r.remaining()) + " data bytes, shape " + shape_str(shape) +
                " needs " + std::to_string(static_cast<uint64_t>(n) * width));
  Tensor t(shape);
  for (int64_t i = 0; i < n; ++i) {
    if (width == 4) t[i] = r.read<float>("value");
    if (width == 2) t[i] = half_to_float(r.read<uint16_t>("value"));
    if (width == 8) t[i] = static_cast<float>(r.read<double>("value"));
  }
  return t;
}

WeightFile read_npy_dir(const std::string& dir) {
  std::vector<Tensor> weights, biases;
  std::vector<Shape> shapes;
  for (int k = 0;; ++k) {
    const auto base = std::filesystem::path(dir) / ("squeezenet0_conv" + std::to_string(k));
    std::error_code ec;
    if (!std::filesystem::exists(base.string() + "_weight.npy", ec)) break;
    weights.push_back(read_npy(base.string() + "_weight.npy"));
    biases.push_back(read_npy(base.string() + "_bias.npy"));
    shapes.push_back(weights.back().shape());
    if (biases.back().shape() != Shape{shapes.back().at(0)})
      throw Error(base.string() + "_bias.npy: shape " + shape_str(biases.back().shape()) + " does not match the weight");
  }
  const ModelConfig config = config_from_conv_shapes(shapes, dir);
  WeightFile wf;
  add_convs_in_order(wf, config, std::move(weights), std::move(biases));
  wf.metadata["preset"] = "torchvision";
  wf.metadata["source"] = "ONNX model zoo squeezenet1.1 (MXNet Gluon), .npy per tensor";
  return wf;
}

}  // namespace squeezenet
