// Caffe .caffemodel: a binary NetParameter protobuf whose Convolution layers carry [weights, bias] blobs.
// Reading takes the convs in file order (Caffe writes layers in forward order) and maps them to torchvision's
// names; writing produces layers named and wired as the forresti deploy.prototxts, so OpenCV DNN and Caffe
// can pair our file with those prototxts (both match layers by name).

#include "caffe_weights.pb.h"
#include "formats/readers.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

namespace {

namespace pb = squeezenet::caffe;
using google::protobuf::RepeatedField;
using google::protobuf::RepeatedPtrField;

// A SqueezeNet .caffemodel is about 5 MB; protobuf itself refuses messages of 2 GiB and more.
constexpr uint64_t kMaxCaffemodelBytes = uint64_t{1} << 30;
constexpr uint64_t kMaxBlobValues = uint64_t{1} << 31;

// One Convolution layer, whichever of the two layer lists (V1 `layers`, current `layer`) it came from.
struct CaffeConv {
  std::string name;
  const pb::ConvolutionParameter* param;  // null when the file has none
  const RepeatedPtrField<pb::BlobProto>* blobs;
};

std::vector<CaffeConv> collect_convs(const pb::NetParameter& net, const std::string& origin) {
  if (net.layer_size() > 0 && net.layers_size() > 0)
    throw Error(origin + ": has both V1 'layers' and current 'layer' entries; Caffe itself refuses such a file");
  std::vector<CaffeConv> convs;
  auto weighted_non_conv = [&](const std::string& name, const std::string& type) {
    return Error(origin + ": layer " + quote_input(name) + " (" + printable(type) +
                 ") carries learned blobs; a SqueezeNet has weights only in Convolution layers");
  };
  for (const pb::LayerParameter& l : net.layer()) {
    if (l.type() == "Convolution")
      convs.push_back({l.name(), l.has_convolution_param() ? &l.convolution_param() : nullptr, &l.blobs()});
    else if (l.blobs_size() > 0)
      throw weighted_non_conv(l.name(), "type " + l.type());
  }
  for (const pb::V1LayerParameter& l : net.layers()) {
    if (l.type() == pb::V1LayerParameter::CONVOLUTION)
      convs.push_back({l.name(), l.has_convolution_param() ? &l.convolution_param() : nullptr, &l.blobs()});
    else if (l.blobs_size() > 0)
      throw weighted_non_conv(l.name(), "a V1 layer type other than CONVOLUTION");
  }
  if (convs.empty())
    throw Error(origin +
                ": no Convolution layers with weights; not a Caffe SqueezeNet .caffemodel (a .prototxt "
                "or a truncated file?)");
  return convs;
}

Tensor blob_tensor(const pb::BlobProto& blob, const std::string& where) {
  Shape shape;
  if (blob.has_shape()) {
    shape.assign(blob.shape().dim().begin(), blob.shape().dim().end());
  } else {  // V1 files: the 4-D num/channels/height/width fields
    shape = {blob.num(), blob.channels(), blob.height(), blob.width()};
  }
  if (shape.empty() || shape.size() > 4)
    throw Error(where + ": blob has " + std::to_string(shape.size()) + " dimensions");
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || static_cast<uint64_t>(d) > kMaxBlobValues)
      throw Error(where + ": blob dimension " + std::to_string(d) + " is out of range");
    count *= static_cast<uint64_t>(d);
    if (count > kMaxBlobValues) throw Error(where + ": blob shape " + shape_str(shape) + " is too large");
  }
  if (static_cast<uint64_t>(blob.data_size()) == count) return Tensor(shape, blob.data().data());
  if (blob.data_size() == 0 && static_cast<uint64_t>(blob.double_data_size()) == count) {
    Tensor t(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(blob.double_data(static_cast<int>(i)));
    return t;
  }
  throw Error(where + ": blob of shape " + shape_str(shape) + " needs " + std::to_string(count) + " values, has " +
              std::to_string(blob.data_size() > 0 ? blob.data_size() : blob.double_data_size()));
}

// Caffe spells kernel, stride and pad as a repeated field (one value, or one per spatial axis) or as an _h/_w
// pair. SqueezeNet's are square, so every value given must agree; `fallback` when none is given.
uint32_t square_value(const RepeatedField<uint32_t>& values, bool has_h, uint32_t h, bool has_w, uint32_t w,
                      uint32_t fallback, const std::string& where, const char* what) {
  std::vector<uint32_t> all(values.begin(), values.end());
  if (has_h) all.push_back(h);
  if (has_w) all.push_back(w);
  for (uint32_t v : all)
    if (v != all.front())
      throw Error(where + ": " + what + " differs between axes (" + std::to_string(all.front()) + " vs " +
                  std::to_string(v) + "); SqueezeNet's convolutions are square");
  return all.empty() ? fallback : all.front();
}

// Checks a conv's convolution_param against the architecture; returns its pad (which may differ from the
// spec only on the final conv: the Caffe v1.0 head pads its 1x1 conv10 by 1).
int check_geometry(const pb::ConvolutionParameter& p, const Conv2dSpec& spec, bool final_conv,
                   const std::string& where) {
  if (p.group() != 1) throw Error(where + ": grouped convolution (group " + std::to_string(p.group()) + ")");
  for (uint32_t d : p.dilation())
    if (d != 1) throw Error(where + ": dilated convolution (dilation " + std::to_string(d) + ")");
  if (!p.bias_term()) throw Error(where + ": bias_term is false; every SqueezeNet conv has a bias");
  if (p.has_num_output() && p.num_output() != static_cast<uint32_t>(spec.out_channels))
    throw Error(where + ": num_output " + std::to_string(p.num_output()) + ", expected " +
                std::to_string(spec.out_channels));
  const uint32_t kernel = square_value(p.kernel_size(), p.has_kernel_h(), p.kernel_h(), p.has_kernel_w(), p.kernel_w(),
                                       spec.kernel, where, "kernel_size");
  const uint32_t stride =
      square_value(p.stride(), p.has_stride_h(), p.stride_h(), p.has_stride_w(), p.stride_w(), 1, where, "stride");
  const uint32_t pad = square_value(p.pad(), p.has_pad_h(), p.pad_h(), p.has_pad_w(), p.pad_w(), 0, where, "pad");
  if (kernel != static_cast<uint32_t>(spec.kernel) || stride != static_cast<uint32_t>(spec.stride))
    throw Error(where + ": kernel " + std::to_string(kernel) + " stride " + std::to_string(stride) + ", expected " +
                std::to_string(spec.kernel) + " and " + std::to_string(spec.stride));
  const bool pad_ok = final_conv ? pad <= 1 : pad == static_cast<uint32_t>(spec.padding);
  if (!pad_ok)
    throw Error(where + ": pad " + std::to_string(pad) + ", expected " + std::to_string(spec.padding) +
                (final_conv ? " or 1" : ""));
  return static_cast<int>(pad);
}

// The bottom blob of every conv in forward order, as the forresti deploy.prototxts wire them: pools are named
// after the block before them (pool1 after conv1, pool4 after fire4, ...), fires output fireN/concat.
std::vector<std::string> caffe_bottoms(const ModelConfig& config) {
  std::vector<std::string> bottoms;
  std::string blob = "data";
  int block = 1;
  for (const Layer& l : architecture(config)) {
    if (l.kind == Layer::Kind::Conv2d) {
      bottoms.push_back(blob);
      blob = "conv1";  // only the first conv feeds another layer directly
    } else if (l.kind == Layer::Kind::MaxPool2d) {
      blob = "pool" + std::to_string(block);
    } else if (l.kind == Layer::Kind::Fire) {
      const std::string fire = "fire" + std::to_string(++block) + "/";
      bottoms.insert(bottoms.end(), {blob, fire + "squeeze1x1", fire + "squeeze1x1"});
      blob = fire + "concat";
    }
  }
  return bottoms;
}

void add_blob(pb::LayerParameter& layer, const Tensor& t) {
  pb::BlobProto* blob = layer.add_blobs();
  for (int64_t d : t.shape()) blob->mutable_shape()->add_dim(d);
  blob->mutable_data()->Add(t.data(), t.data() + t.numel());
}

}  // namespace

WeightFile read_caffemodel_bytes(std::string_view bytes, const std::string& name) {
  if (bytes.size() > kMaxCaffemodelBytes)
    throw Error(name + ": " + std::to_string(bytes.size()) + " bytes, more than a .caffemodel may have here");
  pb::NetParameter net;
  if (!net.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(name + ": not a Caffe NetParameter protobuf (truncated or corrupted .caffemodel?)");
  const std::vector<CaffeConv> convs = collect_convs(net, name);

  std::vector<Tensor> weights, biases;
  std::vector<Shape> shapes;
  for (const CaffeConv& c : convs) {
    const std::string where = name + ": layer " + quote_input(c.name);
    if (c.blobs->size() != 2)
      throw Error(where + ": has " + std::to_string(c.blobs->size()) +
                  " blobs, expected 2 (weights and bias); a .prototxt has none");
    weights.push_back(blob_tensor(c.blobs->Get(0), where + " weights"));
    Tensor bias = blob_tensor(c.blobs->Get(1), where + " bias");
    if (weights.back().ndim() != 4 || bias.numel() != weights.back().dim(0))
      throw Error(where + ": weights " + shape_str(weights.back().shape()) + " and bias " + shape_str(bias.shape()) +
                  " do not form a 2-D convolution");
    bias.reshape({bias.numel()});  // V1 files store it as 1x1x1xN
    biases.push_back(std::move(bias));
    shapes.push_back(weights.back().shape());
  }
  ModelConfig config = config_from_conv_shapes(shapes, name);
  const auto specs = conv_layers(config);
  for (std::size_t i = 0; i < convs.size(); ++i) {
    if (!convs[i].param) continue;  // weights alone carry no geometry to contradict the architecture
    const bool final_conv = i + 1 == convs.size();
    const int pad =
        check_geometry(*convs[i].param, specs[i].spec, final_conv, name + ": layer " + quote_input(convs[i].name));
    if (final_conv) config.final_conv_pad = pad;
  }

  WeightFile out;
  add_convs_in_order(out, config, std::move(weights), std::move(biases));
  out.metadata["preset"] = "caffe";
  out.metadata["final_conv_pad"] = std::to_string(config.final_conv_pad);
  std::string source = "Caffe .caffemodel" + (net.name().empty() ? "" : " " + quote_input(net.name())) + ": " +
                       std::to_string(convs.size()) + " Convolution layers (" +
                       (net.layer_size() > 0 ? "'layer'" : "V1 'layers'") +
                       ") taken in file order as the forward order";
  if (config.final_conv_pad == 1)
    source += "; the final conv '" + convs.back().name +
              "' has pad 1 on its 1x1 kernel (as in the original Caffe v1.0 model), kept as final_conv_pad=1";
  out.metadata["source"] = source;
  return out;
}

WeightFile read_caffemodel(const std::string& path) {
  return read_caffemodel_bytes(read_file(path, kMaxCaffemodelBytes), path);
}

std::string write_caffemodel(const WeightFile& weights) {
  const Model model = Model::from_weights(weights, "caffemodel writer");
  const ModelConfig& config = model.config();
  const auto convs = conv_layers(config);
  const auto names = caffe_layer_names(config);
  const auto bottoms = caffe_bottoms(config);
  if (bottoms.size() != convs.size()) throw Error("internal: caffe bottom table out of step");

  pb::NetParameter net;
  net.set_name(config.arch == Arch::squeezenet1_0 ? "SqueezeNet_v1.0" : "SqueezeNet_v1.1");
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const Conv2dSpec& s = convs[i].spec;
    pb::LayerParameter* layer = net.add_layer();
    layer->set_name(names[i]);
    layer->set_type("Convolution");
    layer->add_bottom(bottoms[i]);
    layer->add_top(names[i]);
    pb::ConvolutionParameter* p = layer->mutable_convolution_param();
    p->set_num_output(static_cast<uint32_t>(s.out_channels));
    p->add_kernel_size(static_cast<uint32_t>(s.kernel));
    if (s.stride != 1) p->add_stride(static_cast<uint32_t>(s.stride));
    if (s.padding != 0) p->add_pad(static_cast<uint32_t>(s.padding));
    add_blob(*layer, model.parameter(convs[i].name + ".weight"));
    add_blob(*layer, model.parameter(convs[i].name + ".bias"));
  }
  std::string bytes;
  if (!net.SerializeToString(&bytes)) throw Error("caffemodel writer: protobuf serialisation failed");
  return bytes;
}

}  // namespace squeezenet
