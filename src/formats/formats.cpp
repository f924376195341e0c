// Format detection and dispatch: the one place that knows every reader and writer.
#include <filesystem>
#include <fstream>

#include "formats/readers.h"
#include "formats/sqz.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

namespace {
struct FormatInfo {
  Format format;
  const char* name;
};
constexpr FormatInfo kFormats[] = {
    {Format::safetensors, "safetensors"},   {Format::pth, "pth"},
    {Format::pth_legacy, "pth-legacy"},     {Format::caffemodel, "caffemodel"},
    {Format::deep_compression, "deep-compression"}, {Format::npy_dir, "npy-dir"},
    {Format::ncnn, "ncnn"},                 {Format::sqz, "sqz"},
    {Format::onnx, "onnx"},
};

std::string head_of(const std::string& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<std::size_t>(in.gcount()));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::string format_name(Format f) {
  for (const auto& i : kFormats)
    if (i.format == f) return i.name;
  return "?";
}

Format parse_format(const std::string& name) {
  std::string all;
  for (const auto& i : kFormats) {
    if (name == i.name) return i.format;
    all += std::string(all.empty() ? "" : ", ") + i.name;
  }
  throw Error("unknown format " + quote_input(name) + " (expected one of: " + all + ")");
}

Format detect_format(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path + ": no such file or directory");
  if (std::filesystem::is_directory(path, ec)) {
    if (std::filesystem::exists(std::filesystem::path(path) / "squeezenet0_conv0_weight.npy", ec))
      return Format::npy_dir;
    throw Error(path + ": is a folder, but not one of .npy weights (no squeezenet0_conv0_weight.npy in it)");
  }
  // As read_file does, only a regular file is opened: a FIFO would block for ever.
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(path + ": not a regular file");
  const std::string head = head_of(path, 16);
  if (head.size() >= 4 && head.compare(0, 4, "PK\x03\x04", 4) == 0) return Format::pth;
  if (head.compare(0, 4, "SQZN") == 0) return Format::sqz;
  // The legacy torch.save stream starts with a pickled magic number: PROTO 2, then a LONG1.
  if (head.size() >= 3 && static_cast<unsigned char>(head[0]) == 0x80 && head[2] == '\x8a') return Format::pth_legacy;
  if (head.compare(0, 7, "7767517") == 0 || ends_with(path, ".param")) return Format::ncnn;
  if (ends_with(path, ".safetensors")) return Format::safetensors;
  if (ends_with(path, ".caffemodel")) return Format::caffemodel;
  if (ends_with(path, ".net")) return Format::deep_compression;
  if (ends_with(path, ".onnx")) return Format::onnx;
  // safetensors: 8-byte header length, then a JSON object.
  if (head.size() >= 9 && head[8] == '{') return Format::safetensors;
  throw Error(path + ": unrecognised weights format (known: .safetensors, .pth, .caffemodel, .net, .sqz, .param, "
              ".onnx, a folder of .npy files); name the format with --format");
}

WeightFile load_weights(const std::string& path) { return load_weights(path, detect_format(path)); }

WeightFile load_weights(const std::string& path, Format format) {
  switch (format) {
    case Format::safetensors: return read_safetensors(path);
    case Format::pth:
    case Format::pth_legacy: return read_pth(path);
    case Format::caffemodel: return read_caffemodel(path);
    case Format::deep_compression: return read_deep_compression(path);
    case Format::npy_dir: return read_npy_dir(path);
    case Format::ncnn: return read_ncnn(path);
    case Format::sqz: return read_sqz(path);
    case Format::onnx: return read_onnx(path);
  }
  throw Error(path + ": unsupported format");
}

Format format_for_output(const std::string& path) {
  if (ends_with(path, ".safetensors")) return Format::safetensors;
  if (ends_with(path, ".pth") || ends_with(path, ".pt")) return Format::pth;
  if (ends_with(path, ".caffemodel")) return Format::caffemodel;
  if (ends_with(path, ".net")) return Format::deep_compression;
  if (ends_with(path, ".sqz")) return Format::sqz;
  if (ends_with(path, ".onnx")) return Format::onnx;
  throw Error(path + ": cannot tell the output format from the name (use .safetensors, .pth, .caffemodel, .net, .sqz or .onnx)");
}

void save_weights(const WeightFile& weights, const std::string& path, Format format) {
  switch (format) {
    case Format::safetensors: write_file_atomic(path, write_safetensors(weights)); return;
    case Format::pth: write_file_atomic(path, write_pth(weights)); return;
    case Format::caffemodel: write_file_atomic(path, write_caffemodel(weights)); return;
    case Format::deep_compression: write_file_atomic(path, write_deep_compression(weights)); return;
    case Format::sqz: write_file_atomic(path, write_sqz(weights)); return;
    case Format::onnx: write_file_atomic(path, write_onnx(weights)); return;
    default: throw Error(path + ": cannot write the " + format_name(format) + " format");
  }
}

}  // namespace squeezenet
