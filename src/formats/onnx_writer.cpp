// ONNX out: the network as the standard opset-13 graph that torch.onnx.export gives for torchvision's model
// (initializers under the state_dict names, one node per module), with what ONNX cannot say in a graph (preset,
// source) kept in metadata_props. Batch, height and width are symbolic: the network is fully convolutional and
// ends in a global average pool, so one file serves every input size the network accepts.
//
// Int8 weights become the QDQ form that ONNX Runtime fuses into its int8 convolutions: each conv reads
// DequantizeLinear(u8 activations) and DequantizeLinear(s8 weights, per output channel) and, but for the final
// one, feeds its ReLU into QuantizeLinear (zero point 0, which lets the ReLU go). The scales are the file's own,
// so the graph states our int8 arithmetic (squeezenet/quantize.h) up to the rounding of the bias, which QDQ keeps
// as int32 in units of input_scale * weight_scale. Max-pool and the Fire's concat run on the u8 maps, as ours do;
// the final conv's output stays fp32, as ours does.
#include <cmath>
#include <limits>
#include <variant>

#include "formats/readers.h"
#include "onnx.pb.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"
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

// An initializer of any element type; an empty shape makes a scalar.
template <typename T>
void add_initializer(onnx::GraphProto& graph, const std::string& name, onnx::TensorProto::DataType type,
                     const Shape& shape, const T* data) {
  onnx::TensorProto* p = graph.add_initializer();
  p->set_name(name);
  p->set_data_type(type);
  int64_t n = 1;
  for (int64_t d : shape) {
    p->add_dims(d);
    n *= d;
  }
  // raw_data is little-endian by the spec, as is every CPU this library builds for.
  p->set_raw_data(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n) * sizeof(T));
}

void add_float_tensor(onnx::GraphProto& graph, const std::string& name, const Tensor& t) {
  add_initializer(graph, name, onnx::TensorProto::FLOAT, t.shape(), t.data());
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
    return node(op, name, std::vector<std::string>{input}, output, out);
  }

  std::string node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                   const std::string& output, onnx::NodeProto** out = nullptr) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const std::string& i : inputs) n->add_input(i);
    n->add_output(output);
    if (out) *out = n;
    return output;
  }

  std::string conv(const std::string& prefix, const Conv2dSpec& s, const std::string& input) {
    for (const char* what : {".weight", ".bias"}) add_float_tensor(graph_, prefix + what, model_.parameter(prefix + what));
    return conv_node(prefix, s, {input, prefix + ".weight", prefix + ".bias"});
  }

  // u8 activations in, DequantizeLinear'd weights and int32 bias; the ReLU, then u8 out at the conv's output
  // scale. The final conv, whose output stays fp32, gets fp32 weights: ONNX Runtime would run it in fp32 anyway,
  // and would dequantize the weights on every forward.
  std::string qdq_conv(const QuantizedConv& c, const Conv2dSpec& spec, const std::string& input_u8) {
    const std::string& p = c.name;
    const int64_t O = c.spec.out_channels;
    const std::vector<uint8_t> zp_u8{static_cast<uint8_t>(c.input_zero_point)};
    add_initializer(graph_, p + ".input_scale", onnx::TensorProto::FLOAT, {}, &c.input_scale);
    add_initializer(graph_, p + ".input_zero_point", onnx::TensorProto::UINT8, {}, zp_u8.data());
    const std::string x = dequantize(p + ".input_dq", {input_u8, p + ".input_scale", p + ".input_zero_point"}, -1);
    if (c.output_scale == 0.0f) return relu(p + ".relu", fp32_head(c, spec, x));

    add_initializer(graph_, p + ".weight_quantized", onnx::TensorProto::INT8,
                    {O, c.spec.in_channels, c.spec.kernel, c.spec.kernel}, c.weight.data());
    add_initializer(graph_, p + ".weight_scale", onnx::TensorProto::FLOAT, {O}, c.weight_scale.data());
    const std::vector<int8_t> zeros8(static_cast<std::size_t>(O), 0);
    add_initializer(graph_, p + ".weight_zero_point", onnx::TensorProto::INT8, {O}, zeros8.data());
    const std::string w = dequantize(p + ".weight", {p + ".weight_quantized", p + ".weight_scale", p + ".weight_zero_point"}, 0);

    std::vector<float> bias_scale(static_cast<std::size_t>(O));
    std::vector<int32_t> bias_q(static_cast<std::size_t>(O)), zeros32(static_cast<std::size_t>(O), 0);
    for (std::size_t o = 0; o < bias_q.size(); ++o) {
      bias_scale[o] = c.input_scale * c.weight_scale[o];
      const double q = std::nearbyint(static_cast<double>(c.bias[o]) / bias_scale[o]);
      if (!(std::abs(q) <= std::numeric_limits<int32_t>::max()))
        throw Error("onnx writer: " + p + ".bias[" + std::to_string(o) + "] does not fit int32 at scale " +
                    std::to_string(bias_scale[o]));
      bias_q[o] = static_cast<int32_t>(q);
    }
    add_initializer(graph_, p + ".bias_quantized", onnx::TensorProto::INT32, {O}, bias_q.data());
    add_initializer(graph_, p + ".bias_scale", onnx::TensorProto::FLOAT, {O}, bias_scale.data());
    add_initializer(graph_, p + ".bias_zero_point", onnx::TensorProto::INT32, {O}, zeros32.data());
    const std::string b = dequantize(p + ".bias", {p + ".bias_quantized", p + ".bias_scale", p + ".bias_zero_point"}, 0);

    const std::string y = relu(p + ".relu", conv_node(p, spec, {x, w, b}));
    const uint8_t zero = 0;
    add_initializer(graph_, p + ".output_scale", onnx::TensorProto::FLOAT, {}, &c.output_scale);
    add_initializer(graph_, p + ".output_zero_point", onnx::TensorProto::UINT8, {}, &zero);
    return node("QuantizeLinear", p + ".quantize", {y, p + ".output_scale", p + ".output_zero_point"},
                p + ".output_u8");
  }

  // The head's weights as q * weight_scale: its input is the Fire's concat read at one scale, so these, not the
  // model's fp32 weights (which fold the per-expand gain back in), are what that input multiplies.
  std::string fp32_head(const QuantizedConv& c, const Conv2dSpec& spec, const std::string& input) {
    const std::string& p = c.name;
    const int64_t O = c.spec.out_channels;
    const std::size_t per_output = c.weight.size() / static_cast<std::size_t>(O);
    std::vector<float> w(c.weight.size());
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(c.weight[i]) * c.weight_scale[i / per_output];
    add_initializer(graph_, p + ".weight", onnx::TensorProto::FLOAT, {O, c.spec.in_channels, c.spec.kernel, c.spec.kernel},
                    w.data());
    add_initializer(graph_, p + ".bias", onnx::TensorProto::FLOAT, {O}, c.bias.data());
    return conv_node(p, spec, {input, p + ".weight", p + ".bias"});
  }

  std::string dequantize(const std::string& name, const std::vector<std::string>& inputs, int64_t axis) {
    onnx::NodeProto* n;
    const std::string out = node("DequantizeLinear", name, inputs, name + ".output", &n);
    if (axis >= 0) add_int(*n, "axis", axis);
    return out;
  }

  std::string conv_node(const std::string& prefix, const Conv2dSpec& s, const std::vector<std::string>& inputs) {
    onnx::NodeProto* n;
    const std::string out = node("Conv", prefix, inputs, prefix + ".output", &n);
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
  const QuantizedModel* q = model.quantization();
  // Not written yet: a kept conv would be DequantizeLinear, a float Conv with the channel scales folded in, then
  // QuantizeLinear; until it is checked against ONNX Runtime, refuse rather than export something untested.
  if (q && weights.metadata.count("keep_fp32"))
    throw Error("int8 weights with convs kept in fp32 (" + weights.metadata.at("keep_fp32") +
                ") have no QDQ export; quantize with --keep-fp32 none to export");
  auto conv = [&](const std::string& name, Conv2dSpec spec, const std::string& input) {
    if (name == "classifier.1") spec.padding = config.final_conv_pad;  // the Caffe v1.0 head
    return q ? g.qdq_conv(q->conv(name), spec, input) : g.conv(name, spec, input);
  };
  // A Fire's convs name their ReLU after themselves, as torchvision's modules do; a QDQ conv has its own.
  auto fire_conv = [&](const std::string& name, const Conv2dSpec& spec, const std::string& input) {
    const std::string y = conv(name, spec, input);
    return q ? y : g.relu(name + "_activation", y);
  };
  std::string x = "input";
  if (q) {
    x = g.node("QuantizeLinear", "input_quantize", {x, "features.0.input_scale", "features.0.input_zero_point"},
               "input_u8");
  }
  for (const Layer& l : model.layers()) {
    switch (l.kind) {
      case Layer::Kind::Conv2d: x = conv(l.name, l.conv, x); break;
      case Layer::Kind::ReLU:
        if (!q) x = g.relu(l.name, x);  // a QDQ conv has its own
        break;
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
        const std::string squeeze = fire_conv(l.name + ".squeeze", l.fire.squeeze_conv(), x);
        const std::string e1 = fire_conv(l.name + ".expand1x1", l.fire.expand1x1_conv(), squeeze);
        const std::string e3 = fire_conv(l.name + ".expand3x3", l.fire.expand3x3_conv(), squeeze);
        onnx::NodeProto* n;
        x = g.node("Concat", l.name, {e1, e3}, l.name + ".output", &n);
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
