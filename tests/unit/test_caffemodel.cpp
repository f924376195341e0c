#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "formats/readers.h"
#include "squeezenet/error.h"
#include "squeezenet/model.h"
#include "util/io.h"

namespace squeezenet {
namespace {

ModelConfig config(Arch arch, int final_conv_pad = 0) {
  ModelConfig c;
  c.arch = arch;
  c.final_conv_pad = final_conv_pad;
  return c;
}

std::string temp_file(const std::string& name) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  // The pid keeps test runs from other build folders, which share the temp folder, apart.
  return (std::filesystem::path(::testing::TempDir()) /
          (std::string(test->name()) + "_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// A minimal protobuf encoder, to build Caffe files our writer never produces: V1 `layers` with legacy 4-D
// blob shapes, and graphs that are not SqueezeNets.
class Pb {
 public:
  Pb& varint(int field, uint64_t v) {
    key(field, 0);
    put(v);
    return *this;
  }
  Pb& bytes(int field, const std::string& s) {
    key(field, 2);
    put(s.size());
    out_ += s;
    return *this;
  }
  Pb& message(int field, const Pb& m) { return bytes(field, m.str()); }
  Pb& floats(int field, const Tensor& t) {  // packed
    return bytes(field, std::string(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * 4));
  }
  const std::string& str() const { return out_; }

 private:
  void key(int field, int wire) { put(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire)); }
  void put(uint64_t v) {
    for (; v >= 0x80; v >>= 7) out_ += static_cast<char>(v | 0x80);
    out_ += static_cast<char>(v);
  }
  std::string out_;
};

// caffe.proto field numbers used below, per message.
enum NetField : int { kNetLayers = 2, kNetLayer = 100 };
enum V1LayerField : int { kV1Name = 4, kV1Type = 5, kV1Blobs = 6, kV1ConvParam = 10 };
enum LayerField : int { kName = 1, kType = 2, kBlobs = 7 };
enum BlobField : int { kBlobNum = 1, kBlobChannels, kBlobHeight, kBlobWidth, kBlobData, kBlobShape = 7 };
enum ConvField : int { kConvNumOutput = 1, kConvPad = 3, kConvKernel = 4, kConvGroup = 5, kConvStride = 6 };
constexpr int kShapeDim = 1;       // BlobShape.dim
constexpr int kV1Convolution = 4;  // V1LayerParameter.LayerType CONVOLUTION

Pb blob_with_shape(const Tensor& t) {
  Pb shape;
  for (int64_t d : t.shape()) shape.varint(kShapeDim, static_cast<uint64_t>(d));
  return Pb().message(kBlobShape, shape).floats(kBlobData, t);
}

Pb legacy_blob(const Tensor& t) {
  Shape s = t.shape();
  s.insert(s.begin(), 4 - s.size(), 1);  // Caffe V1 stored a bias as 1x1x1xN
  return Pb()
      .varint(kBlobNum, static_cast<uint64_t>(s[0]))
      .varint(kBlobChannels, static_cast<uint64_t>(s[1]))
      .varint(kBlobHeight, static_cast<uint64_t>(s[2]))
      .varint(kBlobWidth, static_cast<uint64_t>(s[3]))
      .floats(kBlobData, t);
}

// A whole model as an old-style Caffe file: V1 `layers`, enum types, legacy blob shapes.
std::string v1_caffemodel(const Model& m, int group = 1) {
  Pb net;
  const auto convs = conv_layers(m.config());
  const auto names = caffe_layer_names(m.config());
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const Conv2dSpec& s = convs[i].spec;
    Pb param;
    param.varint(kConvNumOutput, static_cast<uint64_t>(s.out_channels))
        .varint(kConvKernel, static_cast<uint64_t>(s.kernel));
    if (s.stride != 1) param.varint(kConvStride, static_cast<uint64_t>(s.stride));
    if (s.padding != 0) param.varint(kConvPad, static_cast<uint64_t>(s.padding));
    if (group != 1) param.varint(kConvGroup, static_cast<uint64_t>(group));
    net.message(kNetLayers, Pb().bytes(kV1Name, names[i])
                                .varint(kV1Type, kV1Convolution)
                                .message(kV1Blobs, legacy_blob(m.parameter(convs[i].name + ".weight")))
                                .message(kV1Blobs, legacy_blob(m.parameter(convs[i].name + ".bias")))
                                .message(kV1ConvParam, param));
  }
  return net.str();
}

void expect_same_tensors(const WeightFile& got, const Model& want) {
  ASSERT_EQ(got.tensors.size(), want.parameter_names().size());
  for (const std::string& name : want.parameter_names()) {
    ASSERT_TRUE(got.tensors.count(name)) << name;
    const Tensor& t = got.tensors.at(name);
    ASSERT_EQ(t.shape(), want.parameter(name).shape()) << name;
    EXPECT_EQ(max_abs_diff(t, want.parameter(name)), 0.0f) << name;
  }
}

void expect_error(const std::function<void()>& f, const std::string& file, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no Error thrown, expected one mentioning '" << what << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Caffemodel, RoundTripBothArchsThroughAFile) {
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    const Model model(config(arch), 11);
    const std::string path = temp_file(arch_name(arch) + ".caffemodel");
    write_file_atomic(path, write_caffemodel(model.to_weights()));
    const WeightFile back = read_caffemodel(path);
    expect_same_tensors(back, model);
    EXPECT_EQ(back.metadata.at("arch"), arch_name(arch));
    EXPECT_EQ(back.metadata.at("num_classes"), "1000");
    EXPECT_EQ(back.metadata.at("preset"), "caffe");
    EXPECT_EQ(back.metadata.at("final_conv_pad"), "0");
    EXPECT_NO_THROW(Model::from_weights(back, path));
    std::filesystem::remove(path);
  }
}

TEST(Caffemodel, FinalConvPadIsWrittenAndReadBack) {
  const Model model(config(Arch::squeezenet1_0, 1), 3);
  const WeightFile back = read_caffemodel_bytes(write_caffemodel(model.to_weights()), "pad.caffemodel");
  expect_same_tensors(back, model);
  EXPECT_EQ(back.metadata.at("final_conv_pad"), "1");
  EXPECT_NE(back.metadata.at("source").find("final_conv_pad=1"), std::string::npos);
  EXPECT_EQ(Model::from_weights(back).config().final_conv_pad, 1);
}

TEST(Caffemodel, OtherClassCountRoundTrips) {
  ModelConfig c = config(Arch::squeezenet1_1);
  c.num_classes = 2;
  const Model model(c, 5);
  const WeightFile back = read_caffemodel_bytes(write_caffemodel(model.to_weights()), "two.caffemodel");
  expect_same_tensors(back, model);
  EXPECT_EQ(back.metadata.at("num_classes"), "2");
}

TEST(Caffemodel, ReadsV1LayersWithLegacyBlobShapes) {
  const Model model(config(Arch::squeezenet1_0, 1), 21);
  const WeightFile back = read_caffemodel_bytes(v1_caffemodel(model), "v1.caffemodel");
  expect_same_tensors(back, model);
  EXPECT_EQ(back.metadata.at("final_conv_pad"), "1");
  EXPECT_NE(back.metadata.at("source").find("V1"), std::string::npos);
}

TEST(Caffemodel, TruncatedOrCorruptedFilesThrowNamingTheFile) {
  const std::string good = write_caffemodel(Model(config(Arch::squeezenet1_1), 1).to_weights());
  for (std::size_t cut : {std::size_t{1}, std::size_t{100}, good.size() / 2, good.size() - 1}) {
    const std::string path = temp_file("cut" + std::to_string(cut) + ".caffemodel");
    write_file_atomic(path, good.substr(0, cut));
    expect_error([&] { read_caffemodel(path); }, path, "");
    std::filesystem::remove(path);
  }
  std::string corrupted = good;
  for (std::size_t i = 0; i < 16; ++i) corrupted[i] = '\xff';
  expect_error([&] { read_caffemodel_bytes(corrupted, "bad.caffemodel"); }, "bad.caffemodel", "protobuf");
  expect_error([&] { read_caffemodel_bytes("", "empty.caffemodel"); }, "empty.caffemodel", "no Convolution");
  expect_error([&] { read_caffemodel("/nonexistent/x.caffemodel"); }, "/nonexistent/x.caffemodel", "");
}

TEST(Caffemodel, RejectsGraphsThatAreNotSqueezeNets) {
  auto conv_layer = [](const std::string& name, const Tensor& w, const Tensor& b) {
    return Pb()
        .bytes(kName, name)
        .bytes(kType, "Convolution")
        .message(kBlobs, blob_with_shape(w))
        .message(kBlobs, blob_with_shape(b));
  };
  const Tensor w({10, 3, 3, 3}, 0.5f), b({10});
  expect_error([&] { read_caffemodel_bytes(Pb().message(kNetLayer, conv_layer("c", w, b)).str(), "one.caffemodel"); },
               "one.caffemodel", "has 1 convolutions");

  const Pb fc = Pb().bytes(kName, "fc8").bytes(kType, "InnerProduct").message(kBlobs, blob_with_shape(b));
  expect_error([&] { read_caffemodel_bytes(Pb().message(kNetLayer, fc).str(), "fc.caffemodel"); }, "fc.caffemodel",
               "InnerProduct");

  const Pb no_bias = Pb().bytes(kName, "conv1").bytes(kType, "Convolution").message(kBlobs, blob_with_shape(w));
  expect_error([&] { read_caffemodel_bytes(Pb().message(kNetLayer, no_bias).str(), "nobias.caffemodel"); },
               "nobias.caffemodel", "expected 2");

  Pb short_data;
  short_data
      .message(kBlobShape, Pb().varint(kShapeDim, 10).varint(kShapeDim, 3).varint(kShapeDim, 3).varint(kShapeDim, 3))
      .floats(kBlobData, Tensor({7}));
  const Pb bad_len = Pb().bytes(kName, "conv1")
                         .bytes(kType, "Convolution")
                         .message(kBlobs, short_data)
                         .message(kBlobs, blob_with_shape(b));
  expect_error([&] { read_caffemodel_bytes(Pb().message(kNetLayer, bad_len).str(), "len.caffemodel"); },
               "len.caffemodel", "needs 270 values, has 7");

  const Model model(config(Arch::squeezenet1_1), 2);
  expect_error([&] { read_caffemodel_bytes(v1_caffemodel(model, 2), "group.caffemodel"); }, "group.caffemodel",
               "grouped");
  std::string both = v1_caffemodel(model) + Pb().message(kNetLayer, conv_layer("c", w, b)).str();
  expect_error([&] { read_caffemodel_bytes(both, "both.caffemodel"); }, "both.caffemodel", "both");
}

TEST(Caffemodel, WriterValidatesItsInput) {
  WeightFile w = Model(config(Arch::squeezenet1_1), 1).to_weights();
  w.tensors.erase("features.3.squeeze.bias");
  EXPECT_THROW(write_caffemodel(w), Error);
}

}  // namespace
}  // namespace squeezenet
