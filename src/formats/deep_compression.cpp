// Han et al.'s Deep-Compression SqueezeNet v1.0 (compressed_SqueezeNet.net): per conv layer a 256-entry
// codebook, the biases, one 8-bit code per stored weight and 4-bit position increments (two per byte, low
// nibble first). Weights not addressed are zero. Layer order is the prototxt's, which is our forward order.
#include "compress/codebook.h"
#include "formats/readers.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

WeightFile read_deep_compression(const std::string& path) {
  return read_deep_compression_bytes(read_file(path, 64u << 20), path);
}

WeightFile read_deep_compression_bytes(std::string_view bytes, const std::string& path) {
  ByteReader r(bytes, path);
  ModelConfig config;
  config.arch = Arch::squeezenet1_0;
  config.final_conv_pad = 1;  // the Caffe v1.0 conv_final has pad: 1
  const auto convs = conv_layers(config);

  std::vector<uint32_t> nz(convs.size());
  for (auto& n : nz) n = r.read<uint32_t>("entry counts");
  std::vector<Tensor> weights, biases;
  std::map<std::string, std::vector<float>> codebooks;
  for (std::size_t l = 0; l < convs.size(); ++l) {
    const Conv2dSpec& s = convs[l].spec;
    const std::string where = path + ": layer " + convs[l].name;
    Tensor w({s.out_channels, s.in_channels, s.kernel, s.kernel});
    if (nz[l] == 0 || nz[l] > w.numel())
      throw Error(where + ": " + std::to_string(nz[l]) + " stored weights for a tensor of " +
                  std::to_string(w.numel()));
    std::vector<float> codebook(256);
    for (float& c : codebook) c = r.read<float>("codebook");
    Tensor b({s.out_channels});
    for (int64_t i = 0; i < b.numel(); ++i) b[i] = r.read<float>("bias");
    const std::string_view codes = r.take(nz[l], "codes");
    const std::string_view gaps = r.take((nz[l] - 1) / 2 + 1, "position increments");
    int64_t pos = -1;
    for (uint32_t j = 0; j < nz[l]; ++j) {
      const auto g = static_cast<uint8_t>(gaps[j / 2]);
      pos += ((j % 2 == 0) ? (g & 0x0f) : (g >> 4)) + 1;
      if (pos >= w.numel()) throw Error(where + ": weight position " + std::to_string(pos) + " is past the tensor");
      w[pos] = codebook[static_cast<uint8_t>(codes[j])];
    }
    weights.push_back(std::move(w));
    biases.push_back(std::move(b));
    codebooks[convs[l].name + ".weight"] = std::move(codebook);
  }
  if (r.remaining() != 0) throw Error(path + ": " + std::to_string(r.remaining()) + " unexpected trailing bytes");
  WeightFile wf;
  add_convs_in_order(wf, config, std::move(weights), std::move(biases));
  wf.codebooks = std::move(codebooks);
  wf.metadata["final_conv_pad"] = "1";
  wf.metadata["preset"] = "caffe";
  wf.metadata["source"] = "Deep-Compression SqueezeNet v1.0 (Caffe head: conv_final pad 1)";
  return wf;
}

std::string write_deep_compression(const WeightFile& weights) {
  ModelConfig config;
  config.arch = Arch::squeezenet1_0;
  config.final_conv_pad = 1;
  const auto pad = weights.metadata.find("final_conv_pad");
  // The format has no header: its reader assumes the Caffe v1.0 network, so anything else would load wrong.
  if (pad == weights.metadata.end() || pad->second != "1")
    throw Error(".net holds only the Caffe SqueezeNet v1.0 (final conv pad 1, 1000 classes); these weights are not");
  std::string counts, body;
  auto put = [](std::string& out, const auto& v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
  for (const ConvRef& conv : conv_layers(config)) {
    const std::string name = conv.name + ".weight";
    const auto w = weights.tensors.find(name);
    const auto b = weights.tensors.find(conv.name + ".bias");
    const Conv2dSpec& s = conv.spec;
    if (w == weights.tensors.end() || b == weights.tensors.end() ||
        w->second.shape() != Shape{s.out_channels, s.in_channels, s.kernel, s.kernel})
      throw Error(".net holds only the Caffe SqueezeNet v1.0 with 1000 classes; " + conv.name + " does not fit it");
    const auto known = weights.codebooks.find(name);
    std::vector<float> codebook =
        codebook_for(w->second, known == weights.codebooks.end() ? nullptr : &known->second, 255);
    if (codebook.empty())
      throw Error(name + ": more than 255 distinct weights; .net needs weight sharing first (squeezenet compress --bits 8)");
    codebook.resize(256, 0.0f);
    const std::vector<uint8_t> codes = codes_for(w->second, codebook);
    // A gap longer than 15 is bridged by filler entries of code 0 sixteen positions on, as the authors' encoder did.
    std::string stored, nibbles;
    int64_t prev = -1;
    for (std::size_t i = 0; i < codes.size(); ++i) {
      if (codes[i] == 0) continue;
      int64_t gap = static_cast<int64_t>(i) - prev - 1;
      for (; gap > 15; gap -= 16) {
        stored.push_back('\0');
        nibbles.push_back(15);
      }
      stored.push_back(static_cast<char>(codes[i]));
      nibbles.push_back(static_cast<char>(gap));
      prev = static_cast<int64_t>(i);
    }
    if (stored.empty()) throw Error(name + ": every weight is zero, which .net cannot store");
    put(counts, static_cast<uint32_t>(stored.size()));
    for (float c : codebook) put(body, c);
    const Tensor& bias = b->second;
    for (int64_t i = 0; i < bias.numel(); ++i) put(body, bias[i]);
    body += stored;
    for (std::size_t i = 0; i < nibbles.size(); i += 2)
      body.push_back(static_cast<char>(nibbles[i] | (i + 1 < nibbles.size() ? nibbles[i + 1] << 4 : 0)));
  }
  return counts + body;
}

}  // namespace squeezenet
