// ONNX out: the network as the standard opset-13 graph that torch.onnx.export gives for torchvision's model
// (initializers under the state_dict names, one node per module), with what ONNX cannot say in a graph (preset,
// source) kept in metadata_props. Batch, height and width are symbolic: the network is fully convolutional and
// ends in a global average pool, so one file serves every input size the network accepts.
#include <variant>

#include "formats/readers.h"
#include "onnx.pb.h"
#include "squeezenet/error.h"
#include "squeezenet/version.h"

namespace squeezenet {

namespace {

constexpr int64_t kOpset = 13;
constexpr int64_t kIrVersion = 7;  // the IR version that came with opset 13

void add_ints(onnx::NodeProto& node, const char* name, std::initializer_list<int64_t> values) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

void add_int(onnx::NodeProto& node, const char* name, int64_t value) {
  onnx::AttributeProto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void add_float_tensor(onnx::GraphProto& graph, const std::string& name, const Tensor& t) {
  onnx::TensorProto* p = graph.add_initializer();
  p->set_name(name);
  p->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : t.shape()) p->add_dims(d);
  // raw_data is little-endian by the spec, as is every CPU this library builds for.
  p->set_raw_data(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float));
}

void set_float_value(onnx::ValueInfoProto& v, const std::string& name,
                     std::initializer_list<std::variant<int64_t, const char*>> dims) {
  v.set_name(name);
  onnx::TypeProto_Tensor* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (const auto& d : dims) {
    onnx::TensorShapeProto_Dimension* dim = t->mutable_shape()->add_dim();
    if (std::holds_alternative<int64_t>(d))
      dim->set_dim_value(std::get<int64_t>(d));
    else
      dim->set_dim_param(std::get<const char*>(d));
  }
}

// Appends one node reading `input` (plus initializers) and returns the name of its output.
class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& graph, const Model& model) : graph_(graph), model_(model) {}

  std::string node(const std::string& op, const std::string& name, const std::string& input, const std::string& output,
                   onnx::NodeProto** out = nullptr) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op);
    n->set_name(name);
    n->add_input(input);
    n->add_output(output);
    if (out) *out = n;
    return output;
  }

  std::string conv(const std::string& prefix, const Conv2dSpec& s, const std::string& input) {
    onnx::NodeProto* n;
    const std::string out = node("Conv", prefix, input, prefix + ".output", &n);
    for (const char* what : {".weight", ".bias"}) {
      n->add_input(prefix + what);
      add_float_tensor(graph_, prefix + what, model_.parameter(prefix + what));
    }
    add_ints(*n, "kernel_shape", {s.kernel, s.kernel});
    add_ints(*n, "strides", {s.stride, s.stride});
    add_ints(*n, "pads", {s.padding, s.padding, s.padding, s.padding});
    add_ints(*n, "dilations", {1, 1});
    add_int(*n, "group", 1);
    return out;
  }

  std::string relu(const std::string& name, const std::string& input) {
    return node("Relu", name, input, name + ".output");
  }

 private:
  onnx::GraphProto& graph_;
  const Model& model_;
};

}  // namespace

std::string write_onnx(const WeightFile& weights) {
  const Model model = Model::from_weights(weights, "onnx writer");
  const ModelConfig& config = model.config();

  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.set_producer_name("squeezenet.cpp");
  proto.set_producer_version(SQUEEZENET_VERSION);
  proto.set_doc_string(arch_name(config.arch) + " (torchvision's layout), eval mode: input NCHW float32, " +
                       "output logits [batch, " + std::to_string(config.num_classes) + "]");
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  for (const auto& [key, value] : weights.metadata) {
    if (key == "arch" || key == "num_classes" || key == "final_conv_pad") continue;  // the graph says these
    onnx::StringStringEntryProto* e = proto.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
  }

  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(arch_name(config.arch));
  set_float_value(*graph.add_input(), "input", {"batch", int64_t{3}, "height", "width"});
  set_float_value(*graph.add_output(), "logits", {"batch", int64_t{config.num_classes}});

  GraphBuilder g(graph, model);
  std::string x = "input";
  for (const Layer& l : model.layers()) {
    switch (l.kind) {
      case Layer::Kind::Conv2d: {
        Conv2dSpec spec = l.conv;
        if (l.name == "classifier.1") spec.padding = config.final_conv_pad;  // the Caffe v1.0 head
        x = g.conv(l.name, spec, x);
        break;
      }
      case Layer::Kind::ReLU: x = g.relu(l.name, x); break;
      case Layer::Kind::MaxPool2d: {
        onnx::NodeProto* n;
        x = g.node("MaxPool", l.name, x, l.name + ".output", &n);
        add_ints(*n, "kernel_shape", {3, 3});
        add_ints(*n, "strides", {2, 2});
        add_ints(*n, "pads", {0, 0, 0, 0});
        add_int(*n, "ceil_mode", 1);
        break;
      }
      case Layer::Kind::Fire: {
        const std::string squeeze =
            g.relu(l.name + ".squeeze_activation", g.conv(l.name + ".squeeze", l.fire.squeeze_conv(), x));
        const std::string e1 =
            g.relu(l.name + ".expand1x1_activation", g.conv(l.name + ".expand1x1", l.fire.expand1x1_conv(), squeeze));
        const std::string e3 =
            g.relu(l.name + ".expand3x3_activation", g.conv(l.name + ".expand3x3", l.fire.expand3x3_conv(), squeeze));
        onnx::NodeProto* n;
        x = g.node("Concat", l.name, e1, l.name + ".output", &n);
        n->add_input(e3);
        add_int(*n, "axis", 1);
        break;
      }
      case Layer::Kind::Dropout: break;  // the identity in eval mode; torch.onnx.export drops it too
      case Layer::Kind::AdaptiveAvgPool2d: {
        x = g.node("GlobalAveragePool", l.name, x, l.name + ".output");
        onnx::NodeProto* n;
        g.node("Flatten", "flatten", x, "logits", &n);
        add_int(*n, "axis", 1);
        break;
      }
    }
  }
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) throw Error("onnx writer: protobuf serialisation failed");
  return bytes;
}

}  // namespace squeezenet
