// Han et al.'s Deep-Compression SqueezeNet v1.0 (compressed_SqueezeNet.net): per conv layer a 256-entry
// codebook, the biases, one 8-bit code per stored weight and 4-bit position increments (two per byte, low
// nibble first). Weights not addressed are zero. Layer order is the prototxt's, which is our forward order.
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
  for (std::size_t l = 0; l < convs.size(); ++l) {
    const Conv2dSpec& s = convs[l].spec;
    const std::string where = path + ": layer " + convs[l].name;
    Tensor w({s.out_channels, s.in_channels, s.kernel, s.kernel});
    if (nz[l] == 0 || nz[l] > w.numel())
      throw Error(where + ": " + std::to_string(nz[l]) + " stored weights for a tensor of " +
                  std::to_string(w.numel()));
    float codebook[256];
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
  }
  if (r.remaining() != 0) throw Error(path + ": " + std::to_string(r.remaining()) + " unexpected trailing bytes");
  WeightFile wf;
  add_convs_in_order(wf, config, std::move(weights), std::move(biases));
  wf.metadata["final_conv_pad"] = "1";
  wf.metadata["preset"] = "caffe";
  wf.metadata["source"] = "Deep-Compression SqueezeNet v1.0 (Caffe head: conv_final pad 1)";
  return wf;
}

}  // namespace squeezenet
