// ONNX in: walks a graph from its input along the architecture, module by module, and takes the weights of its
// Conv nodes. What is accepted is the network itself in the layouts that exist: torchvision's exports (any opset
// 7-17; before opset 10 ONNX has no ceil_mode, and torch pads the pools' ends instead), the ONNX model zoo's
// squeezenet1.0 (from Caffe2: Dropout kept, Softmax at the end) and squeezenet1.1 (from MXNet Gluon: floor pools,
// a fixed 13x13 average pool), and our own files. Every node must be part of the walk; the first one that is not
// what SqueezeNet has there is named in the error. Where a graph computes something other than our network for
// some inputs (floor pools, a fixed pool window, a final Softmax), the weights are taken and the metadata's
// `source` says what differs.
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "formats/readers.h"
#include "onnx.pb.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

namespace {

// A SqueezeNet .onnx is 5 MB and has about 70 nodes; protobuf itself refuses messages of 2 GiB.
constexpr uint64_t kMaxOnnxBytes = uint64_t{1} << 30;
constexpr int kMaxNodes = 1024;
constexpr int kMaxInitializers = 1024;
constexpr int kMaxMetadata = 64;
constexpr uint64_t kMaxTensorValues = uint64_t{1} << 28;
// Conv, Relu, MaxPool, Concat, Dropout, GlobalAveragePool, AveragePool, Flatten, Reshape and Softmax mean
// the same for this network from opset 1 (the zoo's squeezenet1.0-3) to 18.
constexpr int64_t kMinOpset = 1, kMaxOpset = 18;

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + (s.size() > 80 ? "...'" : "'");
}

std::string describe(const onnx::NodeProto& n) {
  return "node " + quoted(n.name().empty() ? (n.output_size() > 0 ? n.output(0) : std::string("?")) : n.name()) + " (" +
         quoted(n.op_type()) + ")";
}

Tensor tensor_from(const onnx::TensorProto& t, const std::string& where) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(where + ": values are in an external data file; only self-contained .onnx files are read");
  if (t.dims_size() < 1 || t.dims_size() > 4)
    throw Error(where + ": has " + std::to_string(t.dims_size()) + " dimensions, a conv weight or bias 1 to 4");
  Shape shape;
  uint64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || static_cast<uint64_t>(d) > kMaxTensorValues)
      throw Error(where + ": dimension " + std::to_string(d) + " is out of range");
    shape.push_back(d);
    count *= static_cast<uint64_t>(d);
    if (count > kMaxTensorValues) throw Error(where + ": too many values");
  }
  auto mismatch = [&](uint64_t have) {
    return Error(where + ": shape " + shape_str(shape) + " needs " + std::to_string(count) + " values, has " +
                 std::to_string(have));
  };
  const std::string& raw = t.raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: {
      if (!raw.empty()) {
        if (raw.size() != count * sizeof(float)) throw mismatch(raw.size() / sizeof(float));
        Tensor out(shape);
        std::memcpy(out.data(), raw.data(), raw.size());  // little-endian, as the spec says and x86 is
        return out;
      }
      if (static_cast<uint64_t>(t.float_data_size()) != count) throw mismatch(t.float_data_size());
      return Tensor(shape, t.float_data().data());
    }
    case onnx::TensorProto::FLOAT16: {
      ByteReader r(raw, where);
      if (!raw.empty() ? raw.size() != count * 2 : static_cast<uint64_t>(t.int32_data_size()) != count)
        throw mismatch(raw.empty() ? t.int32_data_size() : raw.size() / 2);
      Tensor out(shape);
      for (int64_t i = 0; i < out.numel(); ++i)
        out[i] = half_to_float(raw.empty() ? static_cast<uint16_t>(t.int32_data(static_cast<int>(i)))
                                           : r.read<uint16_t>("value"));
      return out;
    }
    default:
      throw Error(where + ": element type " + std::to_string(t.data_type()) +
                  " (ONNX TensorProto.DataType); weights must be float32 or float16");
  }
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& n, const char* name) {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::vector<int64_t> ints_attribute(const onnx::NodeProto& n, const char* name, std::vector<int64_t> fallback) {
  const onnx::AttributeProto* a = find_attribute(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : fallback;
}

int64_t int_attribute(const onnx::NodeProto& n, const char* name, int64_t fallback) {
  const onnx::AttributeProto* a = find_attribute(n, name);
  return a ? a->i() : fallback;
}

std::string vec_str(const std::vector<int64_t>& v) { return shape_str(v); }

// The graph as the walk sees it: constant values by name, and for every other value the nodes that read it.
class Graph {
 public:
  Graph(const onnx::GraphProto& g, std::string origin) : g_(g), origin_(std::move(origin)), used_(g.node_size()) {
    if (g.node_size() > kMaxNodes || g.initializer_size() > kMaxInitializers)
      throw Error(origin_ + ": " + std::to_string(g.node_size()) + " nodes and " +
                  std::to_string(g.initializer_size()) + " initializers; a SqueezeNet has about 70 and 52");
    for (const onnx::TensorProto& t : g.initializer()) constants_[t.name()] = &t;
    for (int i = 0; i < g.node_size(); ++i) {
      const onnx::NodeProto& n = g.node(i);
      if (n.op_type() == "Constant") {
        const onnx::AttributeProto* value = find_attribute(n, "value");
        if (!value || !value->has_t() || n.output_size() != 1)
          throw Error(origin_ + ": " + describe(n) + " is not a tensor Constant");
        constants_[n.output(0)] = &value->t();
        used_[static_cast<std::size_t>(i)] = true;
      } else if (n.op_type() == "Identity" && n.input_size() == 1 && n.output_size() == 1 &&
                 constants_.count(n.input(0))) {
        // torch.onnx.export stores equal tensors (torchvision's zero biases) once, named again through Identity.
        constants_[n.output(0)] = constants_.at(n.input(0));
        used_[static_cast<std::size_t>(i)] = true;
      }
    }
    for (int i = 0; i < g.node_size(); ++i)
      for (const std::string& in : g.node(i).input())
        if (!in.empty() && !constants_.count(in)) readers_.emplace(in, i);
    for (const onnx::ValueInfoProto& v : g.input())
      if (!constants_.count(v.name())) inputs_.push_back(v.name());
    if (inputs_.size() != 1)
      throw Error(origin_ + ": the graph has " + std::to_string(inputs_.size()) +
                  " inputs besides its weights; a SqueezeNet has one (the image batch)");
    if (g.output_size() != 1)
      throw Error(origin_ + ": the graph has " + std::to_string(g.output_size()) + " outputs; a SqueezeNet has one");
  }

  const std::string& input() const { return inputs_.front(); }
  const std::string& output() const { return g_.output(0).name(); }
  const std::string& origin() const { return origin_; }

  // The nodes reading `value`, each claimed for the walk.
  std::vector<const onnx::NodeProto*> claim_readers(const std::string& value) {
    std::vector<const onnx::NodeProto*> out;
    auto [begin, end] = readers_.equal_range(value);
    for (auto it = begin; it != end; ++it) {
      const auto i = static_cast<std::size_t>(it->second);
      if (used_[i]) throw Error(origin_ + ": " + describe(g_.node(it->second)) + " is reached twice; not a SqueezeNet");
      used_[i] = true;
      out.push_back(&g_.node(it->second));
    }
    return out;
  }

  // The one node reading `value` after pass-through nodes (Identity; Dropout, the identity at inference), which
  // must be `op` (or, with `optional`, may be absent: then null). `value` moves to the pass-through's output.
  const onnx::NodeProto* next(std::string& value, const std::string& op, const std::string& module,
                              bool optional = false) {
    for (;;) {
      if (optional && readers_.count(value) == 0) return nullptr;
      const auto readers = claim_readers(value);
      if (readers.size() != 1)
        throw Error(origin_ + ": value " + quoted(value) + " is read by " + std::to_string(readers.size()) +
                    " nodes where a SqueezeNet has one " + op + " (" + module + ")");
      const onnx::NodeProto& n = *readers.front();
      // A Concat's inputs are checked by the Fire, which knows the order they must come in.
      if (n.input_size() < 1 || (n.input(0) != value && n.op_type() != "Concat") || n.output_size() < 1)
        throw Error(origin_ + ": " + describe(n) + " reads " + quoted(value) + " in an unexpected position");
      if (n.op_type() == "Identity" || n.op_type() == "Dropout") {
        value = n.output(0);
        continue;
      }
      if (n.op_type() != op) {
        if (optional) return &n;  // the caller decides; the node stays claimed
        throw Error(origin_ + ": " + describe(n) + " where a SqueezeNet has " + op + " (" + module + ")");
      }
      return &n;
    }
  }

  bool read_only_by(const std::string& value, const onnx::NodeProto& n) const {
    auto [begin, end] = readers_.equal_range(value);
    return begin != end && std::next(begin) == end && &g_.node(begin->second) == &n;
  }

  Tensor constant(const onnx::NodeProto& n, int input, const std::string& what) const {
    const std::string where = origin_ + ": " + describe(n) + " " + what;
    if (n.input_size() <= input || n.input(input).empty()) throw Error(where + " is missing");
    auto it = constants_.find(n.input(input));
    if (it == constants_.end()) throw Error(where + " " + quoted(n.input(input)) + " is not an initializer");
    return tensor_from(*it->second, where);
  }

  // Every node must have been part of the walk.
  void check_all_used() const {
    for (int i = 0; i < g_.node_size(); ++i)
      if (!used_[static_cast<std::size_t>(i)])
        throw Error(origin_ + ": " + describe(g_.node(i)) + " is not part of a SqueezeNet's forward pass");
  }

 private:
  const onnx::GraphProto& g_;
  std::string origin_;
  std::map<std::string, const onnx::TensorProto*> constants_;
  std::multimap<std::string, int> readers_;
  std::vector<std::string> inputs_;
  std::vector<bool> used_;
};

// What the walk found, beyond the weights.
struct Walk {
  std::vector<Tensor> weights, biases;
  int final_conv_pad = 0;
  std::set<std::string> notes;  // where the graph computes something else for some inputs
};

class Walker {
 public:
  Walker(Graph& graph, Walk& walk) : g_(graph), w_(walk) {}

  std::string conv(std::string x, const Conv2dSpec& spec, const std::string& module, bool final_conv = false) {
    return conv_node(*g_.next(x, "Conv", module), spec, module, final_conv);
  }

  std::string conv_node(const onnx::NodeProto& n, const Conv2dSpec& spec, const std::string& module, bool final_conv) {
    const std::string where = g_.origin() + ": " + describe(n) + " (" + module + ")";
    if (n.input_size() != 3) throw Error(where + ": has no bias; every SqueezeNet conv has one");
    Tensor weight = g_.constant(n, 1, "weight");
    Tensor bias = g_.constant(n, 2, "bias");
    if (weight.ndim() != 4 || bias.ndim() != 1 || bias.dim(0) != weight.dim(0))
      throw Error(where + ": weight " + shape_str(weight.shape()) + " and bias " + shape_str(bias.shape()) +
                  " do not form a 2-D convolution");
    const std::vector<int64_t> kernel{spec.kernel, spec.kernel}, stride{spec.stride, spec.stride};
    const std::vector<int64_t> kernel_shape = ints_attribute(n, "kernel_shape", {weight.dim(2), weight.dim(3)});
    const std::vector<int64_t> strides = ints_attribute(n, "strides", {1, 1});
    if (kernel_shape != kernel || strides != stride)
      throw Error(where + ": kernel " + vec_str(kernel_shape) + " stride " + vec_str(strides) + ", expected " +
                  vec_str(kernel) + " and " + vec_str(stride));
    if (ints_attribute(n, "dilations", {1, 1}) != std::vector<int64_t>{1, 1} || int_attribute(n, "group", 1) != 1)
      throw Error(where + ": dilated or grouped; SqueezeNet's convolutions are neither");
    check_no_auto_pad(n, where);
    const std::vector<int64_t> pads = ints_attribute(n, "pads", {0, 0, 0, 0});
    const int64_t p = spec.padding;
    const bool pad_1_head = final_conv && pads == std::vector<int64_t>{1, 1, 1, 1};
    if (pads != std::vector<int64_t>{p, p, p, p} && !pad_1_head)
      throw Error(where + ": pads " + vec_str(pads) + ", expected " + vec_str({p, p, p, p}) +
                  (final_conv ? " or [1, 1, 1, 1] (the Caffe v1.0 head)" : ""));
    if (pad_1_head) w_.final_conv_pad = 1;
    w_.weights.push_back(std::move(weight));
    w_.biases.push_back(std::move(bias));
    return n.output(0);
  }

  std::string relu(std::string x, const std::string& module) { return g_.next(x, "Relu", module)->output(0); }

  std::string max_pool(std::string x, const std::string& module) {
    const onnx::NodeProto& n = *g_.next(x, "MaxPool", module);
    const std::string where = g_.origin() + ": " + describe(n) + " (" + module + ")";
    if (ints_attribute(n, "kernel_shape", {}) != std::vector<int64_t>{3, 3} ||
        ints_attribute(n, "strides", {1, 1}) != std::vector<int64_t>{2, 2})
      throw Error(where + ": kernel " + vec_str(ints_attribute(n, "kernel_shape", {})) + " stride " +
                  vec_str(ints_attribute(n, "strides", {1, 1})) + ", expected [3, 3] and [2, 2]");
    if (ints_attribute(n, "dilations", {1, 1}) != std::vector<int64_t>{1, 1} ||
        int_attribute(n, "storage_order", 0) != 0)
      throw Error(where + ": dilated or column-major; SqueezeNet's pools are neither");
    check_no_auto_pad(n, where);
    const std::vector<int64_t> pads = ints_attribute(n, "pads", {0, 0, 0, 0});
    const bool ceil = int_attribute(n, "ceil_mode", 0) != 0;
    // torch.onnx.export before opset 10 rounds up by padding each axis's end by up to kernel - 1.
    if (pads.size() != 4 || pads[0] != 0 || pads[1] != 0 || pads[2] < 0 || pads[2] > 2 || pads[3] < 0 || pads[3] > 2 ||
        (ceil && (pads[2] != 0 || pads[3] != 0)))
      throw Error(where + ": pads " + vec_str(pads) +
                  ", expected none, or up to 2 at the end of each axis without ceil_mode (how exports before "
                  "opset 10 round up)");
    if (!ceil && (pads[2] != 0 || pads[3] != 0))
      w_.notes.insert(
          "its max pools round up through end padding fixed for one input size (export before opset "
          "10), exact for that size; we round up for every size");
    else if (!ceil)
      w_.notes.insert(
          "its max pools round down where the network's round up (the same output for inputs such as "
          "224x224 whose pooled sizes come out even)");
    return n.output(0);
  }

  std::string fire(std::string x, const FireSpec& f, const std::string& module) {
    const std::string squeeze = relu(conv(x, f.squeeze_conv(), module + ".squeeze"), module + ".squeeze_activation");
    const auto expands = g_.claim_readers(squeeze);
    if (expands.size() != 2 || expands[0]->op_type() != "Conv" || expands[1]->op_type() != "Conv")
      throw Error(g_.origin() + ": " + module + ": the squeeze's output " + quoted(squeeze) + " feeds " +
                  std::to_string(expands.size()) + " nodes where a Fire has two Conv (expand1x1, expand3x3)");
    // Which is which: by kernel, whatever the node order.
    auto kernel_of = [&](const onnx::NodeProto& n) {
      return ints_attribute(n, "kernel_shape", {g_.constant(n, 1, "weight").dim(2)}).front();
    };
    const bool swapped = kernel_of(*expands[0]) == 3;
    const onnx::NodeProto& n1 = *expands[swapped ? 1 : 0];
    const onnx::NodeProto& n3 = *expands[swapped ? 0 : 1];
    for (const auto* n : expands)
      if (n->input(0) != squeeze)
        throw Error(g_.origin() + ": " + describe(*n) + " reads " + quoted(squeeze) + " in an unexpected position");
    const std::string e1 =
        relu(conv_node(n1, f.expand1x1_conv(), module + ".expand1x1", false), module + ".expand1x1_activation");
    const std::string e3 =
        relu(conv_node(n3, f.expand3x3_conv(), module + ".expand3x3", false), module + ".expand3x3_activation");
    std::string e1_value = e1;
    const onnx::NodeProto& concat = *g_.next(e1_value, "Concat", module);
    const std::vector<std::string> inputs(concat.input().begin(), concat.input().end());
    if (inputs != std::vector<std::string>{e1_value, e3} || int_attribute(concat, "axis", 1) != 1) {
      throw Error(g_.origin() + ": " + describe(concat) + " (" + module +
                  "): a Fire concatenates expand1x1 then expand3x3 along the channels (axis 1)");
    }
    if (!g_.read_only_by(e3, concat))
      throw Error(g_.origin() + ": " + module + ": the expand3x3's output feeds more than the Concat");
    return concat.output(0);
  }

  // AdaptiveAvgPool2d(1) and torch.flatten, then the graph's output; the zoo's variants allowed, said in notes.
  std::string head(std::string x, const std::string& module) {
    const onnx::NodeProto* n = g_.next(x, "GlobalAveragePool", module, true);
    if (n && n->op_type() == "AveragePool") {
      const std::string where = g_.origin() + ": " + describe(*n) + " (" + module + ")";
      const auto k = ints_attribute(*n, "kernel_shape", {});
      if (k.size() != 2 || k[0] != k[1] || k[0] < 1 ||
          ints_attribute(*n, "pads", {0, 0, 0, 0}) != std::vector<int64_t>{0, 0, 0, 0})
        throw Error(where + ": an average pool must cover the whole map (square kernel, no pads)");
      check_no_auto_pad(*n, where);
      w_.notes.insert("its final average pool has a fixed " + std::to_string(k[0]) + "x" + std::to_string(k[0]) +
                      " window, global only for that map size (input " +
                      (k[0] == 13 ? std::string("224x224") : "of one size") + "); ours is global");
    } else if (!n || n->op_type() != "GlobalAveragePool") {
      throw Error(g_.origin() + ": " + (n ? describe(*n) : quoted(x) + " read by nothing") +
                  " where a SqueezeNet has a global average pool (" + module + ")");
    }
    x = n->output(0);
    std::set<std::string> seen;
    while (x != g_.output()) {
      const onnx::NodeProto* t = g_.next(x, "Flatten", "after " + module, true);
      if (!t)
        throw Error(g_.origin() + ": " + quoted(x) + " leads nowhere; the graph's output is " + quoted(g_.output()));
      const std::string& op = t->op_type();
      if ((op != "Flatten" && op != "Reshape" && op != "Squeeze" && op != "Softmax") || !seen.insert(op).second)
        throw Error(g_.origin() + ": " + describe(*t) + " after the average pool; a SqueezeNet ends there (a " +
                    "Flatten, Reshape or Squeeze to [batch, classes] and a Softmax are allowed)");
      if (op == "Flatten" && int_attribute(*t, "axis", 1) != 1)
        throw Error(g_.origin() + ": " + describe(*t) + ": flattens from axis " +
                    std::to_string(int_attribute(*t, "axis", 1)) + ", not to [batch, classes]");
      if (op == "Softmax") {
        if (int_attribute(*t, "axis", 1) != 1 && int_attribute(*t, "axis", 1) != -1)
          throw Error(g_.origin() + ": " + describe(*t) + ": not over the classes");
        w_.notes.insert("it ends in a Softmax (probabilities); the network's logits are what we compute");
      }
      x = t->output(0);
    }
    return x;
  }

 private:
  static void check_no_auto_pad(const onnx::NodeProto& n, const std::string& where) {
    const onnx::AttributeProto* a = find_attribute(n, "auto_pad");
    if (a && !a->s().empty() && a->s() != "NOTSET")
      throw Error(where + ": auto_pad " + quoted(a->s()) + "; SqueezeNet's pads are explicit");
  }

  Graph& g_;
  Walk& w_;
};

Walk walk_graph(Graph& graph, Arch arch) {
  ModelConfig config;
  config.arch = arch;
  Walk walk;
  Walker w(graph, walk);
  std::string x = graph.input();
  for (const Layer& l : architecture(config)) {
    switch (l.kind) {
      case Layer::Kind::Conv2d: x = w.conv(x, l.conv, l.name, l.name == "classifier.1"); break;
      case Layer::Kind::ReLU: x = w.relu(x, l.name); break;
      case Layer::Kind::MaxPool2d: x = w.max_pool(x, l.name); break;
      case Layer::Kind::Fire: x = w.fire(x, l.fire, l.name); break;
      case Layer::Kind::Dropout: break;  // a Dropout node, where there is one, is passed through
      case Layer::Kind::AdaptiveAvgPool2d: x = w.head(x, l.name); break;
    }
  }
  graph.check_all_used();
  return walk;
}

// Both archs start with a strided conv on the input; its weight's shape says which one this is.
Arch arch_of(const onnx::GraphProto& g, const Graph& graph) {
  for (const onnx::NodeProto& n : g.node())
    if (n.op_type() == "Conv" && n.input_size() >= 2 && n.input(0) == graph.input()) {
      const Tensor w = graph.constant(n, 1, "weight");
      return w.shape() == Shape{96, 3, 7, 7} ? Arch::squeezenet1_0 : Arch::squeezenet1_1;
    }
  throw Error(graph.origin() + ": no Conv reads the graph's input " + quoted(graph.input()) +
              "; a SqueezeNet starts with one");
}

}  // namespace

WeightFile read_onnx_bytes(std::string_view bytes, const std::string& name) {
  if (bytes.size() > kMaxOnnxBytes)
    throw Error(name + ": " + std::to_string(bytes.size()) + " bytes, more than a SqueezeNet .onnx may have here");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(name + ": not an ONNX ModelProto (truncated or corrupted .onnx?)");
  if (!model.has_graph()) throw Error(name + ": ONNX model without a graph");
  for (const onnx::OperatorSetIdProto& o : model.opset_import())
    if ((o.domain().empty() || o.domain() == "ai.onnx") && (o.version() < kMinOpset || o.version() > kMaxOpset))
      throw Error(name + ": opset " + std::to_string(o.version()) + "; this reader knows opsets " +
                  std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset));
  if (model.metadata_props_size() > kMaxMetadata)
    throw Error(name + ": " + std::to_string(model.metadata_props_size()) + " metadata entries, at most " +
                std::to_string(kMaxMetadata) + " are read");

  Graph graph(model.graph(), name);
  const Arch arch = arch_of(model.graph(), graph);
  Walk walk = walk_graph(graph, arch);
  std::vector<Shape> shapes;
  for (const Tensor& t : walk.weights) shapes.push_back(t.shape());
  ModelConfig config = config_from_conv_shapes(shapes, name);
  config.final_conv_pad = walk.final_conv_pad;

  WeightFile out;
  for (const onnx::StringStringEntryProto& e : model.metadata_props()) out.metadata[e.key()] = e.value();
  add_convs_in_order(out, config, std::move(walk.weights), std::move(walk.biases));
  out.metadata["final_conv_pad"] = std::to_string(config.final_conv_pad);
  if (!out.metadata.count("source")) {
    std::string source = "ONNX graph" + (model.producer_name().empty() ? "" : " from " + quoted(model.producer_name()));
    for (const std::string& note : walk.notes) source += "; " + note;
    out.metadata["source"] = source;
  }
  return out;
}

WeightFile read_onnx(const std::string& path) { return read_onnx_bytes(read_file(path, kMaxOnnxBytes), path); }

}  // namespace squeezenet
