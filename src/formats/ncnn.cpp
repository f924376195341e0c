// ncnn model: a text .param (the graph, one layer a line) and a .bin holding, for each Convolution in .param
// order, a storage tag, the weights (OIHW) and float32 biases. The order and names of a Fire's two expand
// convs are the converter's choice (pnnx numbers the 3x3 one first but lists the 1x1 one first), so the
// forward order is taken from the graph: each Fire's Concat names its inputs, expand1x1 then expand3x3.
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "formats/readers.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

namespace {

constexpr uint64_t kMaxParamBytes = uint64_t{16} << 20;
constexpr uint64_t kMaxBinBytes = uint64_t{1} << 30;
constexpr int kMaxLayers = 4096;       // SqueezeNet has 50 to 80, depending on what the converter fused
constexpr int kMaxLayerBlobs = 64;     // inputs or outputs of one layer
constexpr int kArrayKeyBase = -23300;  // key -23300-k: parameter k given as an array "count,v1,v2..."

// ncnn's storage tags (ModelBin): what the 4 bytes before a weight array say about its encoding.
constexpr uint32_t kTagFp32 = 0x00000000;
constexpr uint32_t kTagFp16 = 0x01306B47;
constexpr uint32_t kTagInt8 = 0x000D4B38;

struct NcnnLayer {
  std::string type, name;
  std::vector<std::string> inputs, outputs;
  std::map<int, std::string> scalars;
  std::set<int> arrays;
  std::string where;  // "<file>: line N (layer 'name')"
};

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

template <class T>
T parse_number(std::string_view s, const std::string& where, const char* what) {
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    throw Error(where + ": " + what + " " + quote_input(s) + " is not a valid number");
  return v;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (i < line.size()) {
    while (i < line.size() && space(line[i])) ++i;
    std::size_t j = i;
    while (j < line.size() && !space(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

void parse_key_value(std::string_view kv, NcnnLayer& l) {
  const std::size_t eq = kv.find('=');
  if (eq == std::string_view::npos) throw Error(l.where + ": " + quote_input(kv) + " is not a key=value parameter");
  const int key = parse_number<int>(kv.substr(0, eq), l.where, "parameter key");
  const std::string_view value = kv.substr(eq + 1);
  if (key <= kArrayKeyBase) {
    const auto items = split(value, ',');
    const int count = parse_number<int>(items.front(), l.where, "array length");
    if (count < 0 || static_cast<std::size_t>(count) + 1 != items.size())
      throw Error(l.where + ": array parameter " + std::to_string(key) + " says " + std::to_string(count) +
                  " values but has " + std::to_string(items.size() - 1));
    if (!l.arrays.insert(kArrayKeyBase - key).second || l.scalars.count(kArrayKeyBase - key))
      throw Error(l.where + ": parameter " + std::to_string(kArrayKeyBase - key) + " given twice");
    return;
  }
  if (l.arrays.count(key) || !l.scalars.emplace(key, std::string(value)).second)
    throw Error(l.where + ": parameter " + std::to_string(key) + " given twice");
}

std::vector<NcnnLayer> parse_param(std::string_view text, const std::string& origin) {
  std::vector<std::string_view> lines = split(text, '\n');
  std::size_t next = 0;
  // Returns the tokens of the next non-blank line, empty at the end of the text.
  auto next_line = [&]() {
    while (next < lines.size()) {
      auto t = tokens(lines[next++]);
      if (!t.empty()) return t;
    }
    return std::vector<std::string_view>{};
  };
  auto magic = next_line();
  if (magic.size() != 1 || magic[0] != "7767517")
    throw Error(origin +
                ": not an ncnn text .param (the first line must be the magic number 7767517; "
                "binary .param.bin files are not supported)");
  auto header = next_line();
  if (header.size() != 2) throw Error(origin + ": line 2 must hold the layer and blob counts");
  const int layer_count = parse_number<int>(header[0], origin + ": line 2", "layer count");
  const int blob_count = parse_number<int>(header[1], origin + ": line 2", "blob count");
  if (layer_count < 1 || layer_count > kMaxLayers || blob_count < 1 || blob_count > kMaxLayers * kMaxLayerBlobs)
    throw Error(origin + ": implausible layer/blob counts " + std::to_string(layer_count) + " " +
                std::to_string(blob_count));

  std::vector<NcnnLayer> layers;
  int produced = 0;
  for (int i = 0; i < layer_count; ++i) {
    auto t = next_line();
    const std::string at = origin + ": line " + std::to_string(next);
    if (t.empty())
      throw Error(origin + ": declares " + std::to_string(layer_count) + " layers but ends after " + std::to_string(i) +
                  " (truncated .param?)");
    if (t.size() < 4) throw Error(at + ": a layer line needs type, name, input count and output count");
    NcnnLayer l;
    l.type = t[0];
    l.name = t[1];
    l.where = at + " (layer " + quote_input(l.name) + ")";
    const int n_in = parse_number<int>(t[2], l.where, "input count");
    const int n_out = parse_number<int>(t[3], l.where, "output count");
    if (n_in < 0 || n_in > kMaxLayerBlobs || n_out < 0 || n_out > kMaxLayerBlobs ||
        t.size() < 4 + static_cast<std::size_t>(n_in + n_out))
      throw Error(l.where + ": input/output counts " + std::to_string(n_in) + " " + std::to_string(n_out) +
                  " do not match the blob names on the line");
    l.inputs.assign(t.begin() + 4, t.begin() + 4 + n_in);
    l.outputs.assign(t.begin() + 4 + n_in, t.begin() + 4 + n_in + n_out);
    for (std::size_t k = 4 + static_cast<std::size_t>(n_in + n_out); k < t.size(); ++k) parse_key_value(t[k], l);
    produced += n_out;
    layers.push_back(std::move(l));
  }
  if (!next_line().empty())
    throw Error(origin + ": has more layer lines than the " + std::to_string(layer_count) + " it declares");
  if (produced != blob_count)
    throw Error(origin + ": declares " + std::to_string(blob_count) + " blobs but its layers produce " +
                std::to_string(produced));
  return layers;
}

template <class T>
T param(const NcnnLayer& l, int key, T fallback) {
  if (l.arrays.count(key))
    throw Error(l.where + ": parameter " + std::to_string(key) + " is an array, expected one value");
  auto it = l.scalars.find(key);
  return it == l.scalars.end() ? fallback : parse_number<T>(it->second, l.where, "parameter value");
}

struct NcnnConv {
  const NcnnLayer* layer;
  int num_output, kernel, stride, pad, weight_count;
  bool relu;  // fused (9=1) or a ReLU layer reading its output
  int input;  // file-order index of the conv whose output this conv reads (through Split/ReLU), or -1
};

// Reads a Convolution's parameters (ncnn's keys: 0 num_output, 1/11 kernel w/h, 2/12 dilation, 3/13 stride,
// 4/14/15/16 pad left/top/right/bottom, 5 bias_term, 6 weight_data_size, 8 int8, 9 activation, 19 dynamic).
NcnnConv parse_conv(const NcnnLayer& l) {
  auto fail = [&](const std::string& why) { return Error(l.where + ": " + why + "; not a SqueezeNet convolution"); };
  if (l.inputs.size() != 1 || l.outputs.size() != 1) throw fail("needs one input and one output");
  const int num_output = param(l, 0, 0), kernel_w = param(l, 1, 0), kernel_h = param(l, 11, kernel_w);
  const int dilation_w = param(l, 2, 1), dilation_h = param(l, 12, dilation_w);
  const int stride_w = param(l, 3, 1), stride_h = param(l, 13, stride_w);
  const int pad_l = param(l, 4, 0), pad_t = param(l, 14, pad_l), pad_r = param(l, 15, pad_l),
            pad_b = param(l, 16, pad_t);
  const int weight_count = param(l, 6, 0), activation = param(l, 9, 0);
  if (param(l, 8, 0) != 0) throw fail("int8 quantized (8=" + printable(l.scalars.at(8)) + ")");
  if (param(l, 19, 0) != 0) throw fail("weights come from an input blob (19=1)");
  if (param(l, 5, 0) != 1) throw fail("has no bias (5=0)");
  if (param(l, 18, 0.0f) != 0.0f) throw fail("pads with a non-zero value");
  if (activation != 0 && activation != 1) throw fail("fused activation " + std::to_string(activation) + " is not ReLU");
  if (dilation_w != 1 || dilation_h != 1) throw fail("dilated");
  if (kernel_w != kernel_h || stride_w != stride_h || pad_l != pad_t || pad_l != pad_r || pad_l != pad_b)
    throw fail("kernel, stride or padding differs between axes");
  if (num_output < 1 || num_output > (1 << 24) || kernel_w < 1 || kernel_w > 64 || stride_w < 1 || pad_l < 0 ||
      weight_count < 1)
    throw fail("num_output " + std::to_string(num_output) + " kernel " + std::to_string(kernel_w) + " stride " +
               std::to_string(stride_w) + " pad " + std::to_string(pad_l) + " weight_data_size " +
               std::to_string(weight_count) + " out of range");
  const int64_t per_input = int64_t{num_output} * kernel_w * kernel_w;
  if (weight_count % per_input != 0)
    throw fail("weight_data_size " + std::to_string(weight_count) + " is not num_output x kernel x kernel x inputs");
  return {&l, num_output, kernel_w, stride_w, pad_l, weight_count, activation == 1, -1};
}

// Layers whose output is their input for the purpose of telling which conv feeds which.
bool passes_through(const std::string& type) { return type == "Split" || type == "ReLU" || type == "Dropout"; }

struct Graph {
  std::vector<NcnnConv> convs;               // file order = .bin order
  std::vector<std::pair<int, int>> concats;  // file-order conv indices joined by each Concat
  std::vector<int> forward;                  // file-order conv indices in forward order
};

Graph build_graph(const std::vector<NcnnLayer>& layers, const std::string& origin) {
  static const std::set<std::string> kOther{"Input", "Pooling", "Softmax", "Reshape", "Flatten", "Concat"};
  Graph g;
  std::map<std::string, int> source;  // blob -> conv it carries (through pass-through layers), or -1
  std::vector<int> layer_conv(layers.size(), -1), layer_concat(layers.size(), -1);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const NcnnLayer& l = layers[i];
    if (l.type != "Convolution" && !passes_through(l.type) && !kOther.count(l.type))
      throw Error(l.where + ": layer type " + quote_input(l.type) + " is not part of a SqueezeNet");
    for (const std::string& in : l.inputs)
      if (!source.count(in)) throw Error(l.where + ": reads blob " + quote_input(in) + ", which no earlier layer produces");
    int carried = -1;
    if (l.type == "Convolution") {
      NcnnConv c = parse_conv(l);
      c.input = source[l.inputs[0]];
      layer_conv[i] = static_cast<int>(g.convs.size());
      carried = layer_conv[i];
      g.convs.push_back(c);
    } else if (passes_through(l.type)) {
      if (l.inputs.size() != 1) throw Error(l.where + ": " + l.type + " needs exactly one input");
      carried = source[l.inputs[0]];
      if (l.type == "ReLU") {
        if (param(l, 0, 0.0f) != 0.0f) throw Error(l.where + ": leaky ReLU is not SqueezeNet's");
        if (carried >= 0) g.convs[static_cast<std::size_t>(carried)].relu = true;
      }
    } else if (l.type == "Concat") {
      if (l.inputs.size() != 2 || param(l, 0, 0) != 0)
        throw Error(l.where + ": a Fire's Concat joins two blobs along channels (0=0)");
      layer_concat[i] = static_cast<int>(g.concats.size());
      g.concats.emplace_back(source[l.inputs[0]], source[l.inputs[1]]);
    }
    for (const std::string& out : l.outputs)
      if (!source.emplace(out, carried).second) throw Error(l.where + ": blob " + quote_input(out) + " is produced twice");
  }
  for (const NcnnConv& c : g.convs)
    if (!c.relu) throw Error(c.layer->where + ": no ReLU follows this conv; SqueezeNet has one after every conv");

  // Forward order: convs outside a Fire's expand pair where the file has them, each expand pair where its
  // Concat is, in the Concat's input order, which must be SqueezeNet's: 1x1 first, then 3x3, both reading
  // the squeeze conv placed just before them.
  std::vector<bool> in_concat(g.convs.size(), false), placed(g.convs.size(), false);
  for (const auto& [a, b] : g.concats)
    for (int c : {a, b})
      if (c >= 0) in_concat[static_cast<std::size_t>(c)] = true;
  auto place = [&](int c, const NcnnLayer& at) {
    if (placed[static_cast<std::size_t>(c)])
      throw Error(at.where + ": conv " + quote_input(g.convs[static_cast<std::size_t>(c)].layer->name) + " feeds two Concats");
    placed[static_cast<std::size_t>(c)] = true;
    g.forward.push_back(c);
  };
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layer_conv[i] >= 0 && !in_concat[static_cast<std::size_t>(layer_conv[i])]) place(layer_conv[i], layers[i]);
    if (layer_concat[i] < 0) continue;
    const auto [a, b] = g.concats[static_cast<std::size_t>(layer_concat[i])];
    const int squeeze = g.forward.empty() ? -1 : g.forward.back();
    if (a < 0 || b < 0 || squeeze < 0 || g.convs[static_cast<std::size_t>(a)].kernel != 1 ||
        g.convs[static_cast<std::size_t>(b)].kernel != 3 || g.convs[static_cast<std::size_t>(a)].input != squeeze ||
        g.convs[static_cast<std::size_t>(b)].input != squeeze)
      throw Error(layers[i].where +
                  ": a Fire's Concat must join a 1x1 then a 3x3 conv that both read the "
                  "squeeze conv before them; this graph is not a SqueezeNet (" +
                  origin + ")");
    place(a, layers[i]);
    place(b, layers[i]);
  }
  return g;
}

// float32 values copied bytewise: data inside the .bin has no alignment guarantee.
Tensor float_tensor(Shape shape, std::string_view bytes) {
  Tensor t(std::move(shape));
  std::memcpy(t.data(), bytes.data(), bytes.size());
  return t;
}

Tensor read_weights(ByteReader& r, const NcnnConv& c, std::set<std::string>& storage) {
  const std::string& name = c.layer->name;
  const Shape shape{c.num_output, c.weight_count / (int64_t{c.num_output} * c.kernel * c.kernel), c.kernel, c.kernel};
  const uint32_t tag = r.read<uint32_t>(("storage tag of " + name).c_str());
  const auto n = static_cast<uint64_t>(c.weight_count);
  // Each take() comes before the allocation it sizes, so a lying .param cannot allocate more than the .bin holds.
  if (tag == kTagFp16) {
    // ncnn pads fp16 arrays to a multiple of 4 bytes.
    const std::string_view bytes = r.take((n * 2 + 3) / 4 * 4, ("fp16 weights of " + name).c_str());
    Tensor w(shape);
    for (uint64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      w[static_cast<int64_t>(i)] = half_to_float(h);
    }
    storage.insert("fp16");
    return w;
  } else if (tag == kTagFp32) {
    storage.insert("fp32");
    return float_tensor(shape, r.take(n * 4, ("fp32 weights of " + name).c_str()));
  } else if (tag == kTagInt8) {
    throw Error(r.what() + ": weights of '" + name +
                "' are int8-quantized (tag 0x000D4B38); only fp32 and fp16 "
                "storage can be read: convert the model without int8 quantization");
  } else {
    throw Error(r.what() + ": weights of " + quote_input(name) + " have storage tag " + hex32(tag) + " at offset " +
                std::to_string(r.offset() - 4) +
                "; only fp32 (0x00000000) and fp16 (0x01306B47) are supported, "
                "or the .bin does not belong to this .param");
  }
}

Tensor read_bias(ByteReader& r, const NcnnConv& c) {
  const auto n = static_cast<uint64_t>(c.num_output);
  return float_tensor({c.num_output}, r.take(n * 4, ("bias of " + c.layer->name).c_str()));
}

std::string bin_path_for(const std::string& param_path) {
  const std::string suffix = ".param";
  if (param_path.size() > suffix.size() &&
      param_path.compare(param_path.size() - suffix.size(), suffix.size(), suffix) == 0)
    return param_path.substr(0, param_path.size() - suffix.size()) + ".bin";
  return param_path + ".bin";
}

}  // namespace

WeightFile read_ncnn_bytes(std::string_view param_text, std::string_view bin_bytes, const std::string& param_name,
                           const std::string& bin_name) {
  const std::vector<NcnnLayer> layers = parse_param(param_text, param_name);
  const Graph g = build_graph(layers, param_name);

  ByteReader r(bin_bytes, bin_name);
  std::set<std::string> storage;
  std::vector<Tensor> file_weights, file_biases;
  for (const NcnnConv& c : g.convs) {
    file_weights.push_back(read_weights(r, c, storage));
    file_biases.push_back(read_bias(r, c));
  }
  if (r.remaining() != 0)
    throw Error(bin_name + ": " + std::to_string(r.remaining()) +
                " bytes left after the last convolution's data; "
                "the .bin does not belong to " +
                param_name);

  std::vector<Tensor> weights, biases;
  std::vector<Shape> shapes;
  std::vector<std::string> names;
  for (int c : g.forward) {
    shapes.push_back(file_weights[static_cast<std::size_t>(c)].shape());
    weights.push_back(std::move(file_weights[static_cast<std::size_t>(c)]));
    biases.push_back(std::move(file_biases[static_cast<std::size_t>(c)]));
    names.push_back(g.convs[static_cast<std::size_t>(c)].layer->name);
  }
  ModelConfig config = config_from_conv_shapes(shapes, param_name);
  const auto specs = conv_layers(config);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const NcnnConv& c = g.convs[static_cast<std::size_t>(g.forward[i])];
    const bool final_conv = i + 1 == specs.size();
    if (c.stride != specs[i].spec.stride || (final_conv ? c.pad > 1 : c.pad != specs[i].spec.padding))
      throw Error(c.layer->where + ": stride " + std::to_string(c.stride) + " pad " + std::to_string(c.pad) + ", " +
                  specs[i].name + " of " + arch_name(config.arch) + " needs stride " +
                  std::to_string(specs[i].spec.stride) + " pad " + std::to_string(specs[i].spec.padding));
  }

  // Converters keep the source's layer names: Caffe's say the weights expect Caffe preprocessing.
  const bool caffe = names == caffe_layer_names(config);
  const int file_pad = g.convs[static_cast<std::size_t>(g.forward.back())].pad;
  std::string source = "ncnn model (" + std::to_string(g.convs.size()) + " Convolution layers, " +
                       (storage.size() == 1 ? *storage.begin() : std::string("fp16+fp32")) +
                       " storage); expand1x1/expand3x3 told apart by each Fire's Concat and kernel size; ";
  source += caffe ? "Caffe layer names, so Caffe preprocessing" : "non-Caffe layer names, so torchvision preprocessing";
  config.final_conv_pad = file_pad;
  if (caffe && config.arch == Arch::squeezenet1_1 && file_pad == 1) {
    config.final_conv_pad = 0;
    source +=
        "; conv10 has pad 1 in the .param, but the authors' Caffe v1.1 model has none (only v1.0 pads "
        "conv10): final_conv_pad=0 to match the original";
  } else if (file_pad == 1) {
    source += "; the final conv has pad 1, kept as final_conv_pad=1";
  }

  WeightFile out;
  add_convs_in_order(out, config, std::move(weights), std::move(biases));
  out.metadata["preset"] = caffe ? "caffe" : "torchvision";
  out.metadata["final_conv_pad"] = std::to_string(config.final_conv_pad);
  out.metadata["source"] = source;
  return out;
}

WeightFile read_ncnn(const std::string& param_path) {
  const std::string bin_path = bin_path_for(param_path);
  const std::string param_text = read_file(param_path, kMaxParamBytes);
  std::error_code ec;
  if (!std::filesystem::exists(bin_path, ec))
    throw Error(param_path + ": its weights file " + bin_path +
                " does not exist (ncnn keeps them beside the .param, under the same name ending in .bin)");
  return read_ncnn_bytes(param_text, read_file(bin_path, kMaxBinBytes), param_path, bin_path);
}

}  // namespace squeezenet
