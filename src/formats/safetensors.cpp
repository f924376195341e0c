// safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__},
// then the raw little-endian data. The project's own format: simple, mmap-able, read by every ecosystem.
#include <cmath>

#include <nlohmann/json.hpp>

#include "formats/readers.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

namespace {
constexpr uint64_t kMaxHeader = 100u << 20;  // the spec's limit

Tensor decode(const std::string& dtype, const Shape& shape, std::string_view raw, const std::string& where) {
  int64_t n = 0;
  try {
    n = numel_of(shape);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  const uint64_t width = dtype == "F32" ? 4 : dtype == "F16" ? 2 : dtype == "F64" ? 8 : dtype == "I8" ? 1 : 0;
  if (width == 0) throw Error(where + ": dtype " + quote_input(dtype) + " is not supported (F32, F16, F64, I8 are)");
  if (raw.size() != static_cast<uint64_t>(n) * width)
    throw Error(where + ": data is " + std::to_string(raw.size()) + " bytes, shape " + shape_str(shape) + " of " +
                dtype + " needs " + std::to_string(static_cast<uint64_t>(n) * width));
  Tensor t(shape);
  ByteReader r(raw, where);
  for (int64_t i = 0; i < n; ++i) {
    if (width == 4) t[i] = r.read<float>("value");
    if (width == 2) t[i] = half_to_float(r.read<uint16_t>("value"));
    if (width == 8) t[i] = static_cast<float>(r.read<double>("value"));
    if (width == 1) t[i] = r.read<int8_t>("value");
  }
  return t;
}
}  // namespace

WeightFile read_safetensors(const std::string& path) { return read_safetensors_bytes(read_file(path), path); }

WeightFile read_safetensors_bytes(std::string_view bytes, const std::string& path) {
  ByteReader r(bytes, path);
  const uint64_t header_len = r.read<uint64_t>("header length");
  if (header_len > kMaxHeader) throw Error(path + ": header length " + std::to_string(header_len) + " is implausible");
  const std::string_view header = r.take(header_len, "header");
  const std::string_view data = bytes.substr(r.offset());
  nlohmann::json j = nlohmann::json::parse(header, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(path + ": header is not a JSON object");

  WeightFile wf;
  for (auto& [name, entry] : j.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw Error(path + ": __metadata__ is not an object");
      for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw Error(path + ": metadata " + quote_input(k) + " is not a string");
        wf.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = path + ": tensor " + quote_input(name);
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets") ||
        !entry["dtype"].is_string() || !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2)
      throw Error(where + ": malformed header entry");
    Shape shape;
    for (auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) throw Error(where + ": shape must hold non-negative integers");
      shape.push_back(static_cast<int64_t>(std::min<uint64_t>(d.get<uint64_t>(), uint64_t{1} << 40)));
    }
    const auto& off = entry["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) throw Error(where + ": bad data_offsets");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data.size())
      throw Error(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                  ") fall outside the " + std::to_string(data.size()) + " data bytes (truncated file?)");
    const std::string dtype = entry["dtype"].get<std::string>();
    wf.tensors[name] = decode(dtype, shape, data.substr(begin, end - begin), where);
    if (dtype == "I8") wf.dtypes[name] = dtype;
  }
  return wf;
}

namespace {
bool is_i8(const WeightFile& weights, const std::string& name) {
  const auto it = weights.dtypes.find(name);
  if (it == weights.dtypes.end() || it->second == "F32") return false;
  if (it->second != "I8") throw Error("safetensors: cannot write tensor '" + name + "' as " + it->second);
  return true;
}
}  // namespace

std::string write_safetensors(const WeightFile& weights) {
  nlohmann::ordered_json header;
  if (!weights.metadata.empty()) header["__metadata__"] = weights.metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : weights.tensors) {
    const bool i8 = is_i8(weights, name);
    const uint64_t size = static_cast<uint64_t>(t.numel()) * (i8 ? 1 : sizeof(float));
    header[name] = {{"dtype", i8 ? "I8" : "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned, as the reference writer does
  std::string out(8, '\0');
  const uint64_t len = h.size();
  std::memcpy(out.data(), &len, 8);
  out += h;
  for (const auto& [name, t] : weights.tensors) {
    if (!is_i8(weights, name)) {
      out.append(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float));
      continue;
    }
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (!(t[i] >= -128.0f && t[i] <= 127.0f) || t[i] != std::nearbyint(t[i]))
        throw Error("safetensors: tensor '" + name + "' holds " + std::to_string(t[i]) + ", not an int8 value");
      out.push_back(static_cast<char>(static_cast<int8_t>(t[i])));
    }
  }
  return out;
}

}  // namespace squeezenet
