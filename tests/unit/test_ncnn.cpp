#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "formats/readers.h"
#include "squeezenet/error.h"
#include "squeezenet/model.h"
#include "test_env.h"
#include "util/io.h"

namespace squeezenet {
namespace {

const std::string kPnnx = "/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn";
const std::string kCaffe = "/ncnn-caffe-squeezenet1.1-fp16/squeezenet_v1.1";

std::string shared(const std::string& stem, const char* ext) { return read_file(test::data_dir() + stem + ext); }

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

class Ncnn : public ::testing::Test {
 protected:
  // The pid keeps runs from other build folders, which share the temp folder, apart.
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("ncnn_" + std::string(test->name()) + "_" + std::to_string(::getpid()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a model.param / model.bin pair into a fresh folder and returns the .param path.
  std::string write_model(const std::string& param, const std::string* bin) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write_file_atomic((dir_ / "model.param").string(), param);
    if (bin) write_file_atomic((dir_ / "model.bin").string(), *bin);
    return (dir_ / "model.param").string();
  }

  void expect_error(const std::string& param, const std::string* bin, const std::string& file_suffix,
                    const std::string& what) {
    const std::string path = write_model(param, bin);
    const std::string file = (dir_ / "model").string() + file_suffix;
    try {
      read_ncnn(path);
      ADD_FAILURE() << "no Error thrown, expected one mentioning '" << what << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  }

  std::filesystem::path dir_;
};

TEST_F(Ncnn, PnnxTorchvisionModelLoads) {
  const WeightFile w = read_ncnn(test::data_dir() + kPnnx + ".param");
  const Model m = Model::from_weights(w);  // every name and shape of squeezenet1_1
  EXPECT_EQ(m.config().arch, Arch::squeezenet1_1);
  EXPECT_EQ(m.config().final_conv_pad, 0);
  EXPECT_EQ(w.metadata.at("preset"), "torchvision");
  EXPECT_NE(w.metadata.at("source").find("fp16"), std::string::npos);
  // fp16 values decoded by hand from the .bin (struct.unpack('<3e')), at the offsets of each conv's data:
  // the 1x1 and 3x3 expand convs must land under their own names.
  const auto expect_first3 = [&](const std::string& name, std::initializer_list<float> want) {
    const Tensor& t = w.tensors.at(name);
    int i = 0;
    for (float v : want) EXPECT_EQ(t[i++], v) << name << "[" << i << "]";
  };
  expect_first3("features.0.weight", {0.12091064453125f, 0.177978515625f, -0.015960693359375f});
  expect_first3("features.3.squeeze.weight", {0.10845947265625f, 0.11773681640625f, 0.09423828125f});
  expect_first3("features.3.expand1x1.weight", {-0.156982421875f, 0.0753173828125f, -0.0203399658203125f});
  expect_first3("features.3.expand3x3.weight", {0.19677734375f, -0.05145263671875f, -0.08831787109375f});
  expect_first3("classifier.1.weight", {-0.0496826171875f, 0.03857421875f, -0.00861358642578125f});
  EXPECT_FLOAT_EQ(w.tensors.at("features.0.bias")[0], 0.7685886025428772f);
  EXPECT_FLOAT_EQ(w.tensors.at("classifier.1.bias")[2], 0.004203673917800188f);
}

TEST_F(Ncnn, CaffeModelLoadsWithCaffePresetAndNoFinalPad) {
  const WeightFile w = read_ncnn(test::data_dir() + kCaffe + ".param");
  const Model m = Model::from_weights(w);
  EXPECT_EQ(m.config().arch, Arch::squeezenet1_1);
  EXPECT_EQ(m.config().final_conv_pad, 0);  // the .param says 4=1; the authors' v1.1 has no pad
  EXPECT_EQ(w.metadata.at("preset"), "caffe");
  EXPECT_EQ(w.metadata.at("final_conv_pad"), "0");
  EXPECT_NE(w.metadata.at("source").find("pad 1"), std::string::npos);
  EXPECT_EQ(w.tensors.at("features.0.weight")[1], 0.359130859375f);
  EXPECT_EQ(w.tensors.at("features.3.expand1x1.weight")[2], 0.3955078125f);
  EXPECT_EQ(w.tensors.at("features.3.expand3x3.weight")[0], -0.044891357421875f);
  EXPECT_FLOAT_EQ(w.tensors.at("classifier.1.bias")[1], 0.05381469056010246f);
}

TEST_F(Ncnn, Fp32StorageReadsTheSameValues) {
  // Rewrite the pnnx .bin with tag 0 and float32 weights: the reader must give identical tensors.
  const std::string param = shared(kPnnx, ".param");
  const WeightFile fp16 = read_ncnn(test::data_dir() + kPnnx + ".param");
  const std::string bin = shared(kPnnx, ".bin");
  ByteReader r(bin, "bin");
  std::string out;
  std::size_t pos = 0;
  while ((pos = param.find("\nConvolution", pos)) != std::string::npos) {
    ++pos;
    const std::string line = param.substr(pos, param.find('\n', pos) - pos);
    const int n = std::stoi(line.substr(line.find(" 6=") + 3));
    const int o = std::stoi(line.substr(line.find(" 0=") + 3));
    r.read<uint32_t>("tag");
    out.append(4, '\0');
    const std::string_view halves = r.take(static_cast<uint64_t>(n) * 2, "w");
    for (int i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, halves.data() + 2 * i, 2);
      const float f = half_to_float(h);
      out.append(reinterpret_cast<const char*>(&f), 4);
    }
    out += r.take(static_cast<uint64_t>(o) * 4, "b");
  }
  const WeightFile fp32 = read_ncnn(write_model(param, &out));
  for (const auto& [name, t] : fp16.tensors) EXPECT_EQ(max_abs_diff(t, fp32.tensors.at(name)), 0.0f) << name;
  EXPECT_NE(fp32.metadata.at("source").find("fp32"), std::string::npos);
}

TEST_F(Ncnn, BadBinThrowsNamingTheBin) {
  const std::string param = shared(kPnnx, ".param");
  const std::string bin = shared(kPnnx, ".bin");
  const std::string half = bin.substr(0, bin.size() / 2);
  expect_error(param, &half, ".bin", "truncated");
  const std::string longer = bin + std::string(4, '\0');
  expect_error(param, &longer, ".bin", "4 bytes left");
  std::string int8 = bin;
  const uint32_t tag = 0x000D4B38;
  std::memcpy(int8.data(), &tag, 4);
  expect_error(param, &int8, ".bin", "int8");
  std::string junk = bin;
  junk[1] = 'x';
  expect_error(param, &junk, ".bin", "storage tag");
  expect_error(param, nullptr, ".bin", "does not exist");
}

TEST_F(Ncnn, BadParamThrowsNamingTheParam) {
  const std::string param = shared(kPnnx, ".param");
  const std::string bin = shared(kPnnx, ".bin");
  expect_error(replaced(param, "7767517", "7767518"), &bin, ".param", "magic");
  expect_error(param.substr(0, param.find("Concat")), &bin, ".param", "declares 49 layers but ends after 7");
  expect_error(replaced(param, "49 57", "49 58"), &bin, ".param", "declares 58 blobs");
  expect_error(replaced(param, "2 1 6 7 8", "2 1 7 6 8"), &bin, ".param", "Concat must join");
  expect_error(replaced(param, "1 1 5 6 0=64", "1 1 9 6 0=64"), &bin, ".param", "which no earlier layer");
  expect_error(replaced(param, "2=1 3=2", "2=2 3=2"), &bin, ".param", "dilated");
  expect_error(replaced(param, "convrelu_0               1 1 in0 1 0=64", "convrelu_0 1 1 in0 1 -23300=2,64,64"), &bin,
               ".param", "is an array");
  expect_error(replaced(param, "Reshape ", "InnerProduct "), &bin, ".param",
               "'InnerProduct' is not part of a SqueezeNet");
  expect_error(replaced(param, "6=1728 9=1", "6=1728 9=2"), &bin, ".param", "not ReLU");
  expect_error(replaced(param, "6=1728", "6=1729"), &bin, ".param", "weight_data_size");
  expect_error(replaced(param, "6=1728 9=1", "6=1728 9=0"), &bin, ".param", "no ReLU follows");
}

TEST_F(Ncnn, HugeWeightCountFailsOnTheBinBeforeAllocating) {
  // 64 x 3 x 3 x 3,200,000 inputs: 7 GiB as float32, while the .bin holds 2.4 MB.
  const std::string param = replaced(shared(kPnnx, ".param"), "6=1728", "6=1843200000");
  const std::string bin = shared(kPnnx, ".bin");
  expect_error(param, &bin, ".bin", "truncated");
}

TEST_F(Ncnn, ArrayParametersAreParsed) {
  // activation_params (key 10) as an array: allowed, ReLU ignores them.
  const std::string param = replaced(shared(kPnnx, ".param"), "6=1728 9=1", "6=1728 9=1 -23310=1,0.0");
  const std::string bin = shared(kPnnx, ".bin");
  EXPECT_NO_THROW(read_ncnn(write_model(param, &bin)));
  expect_error(replaced(param, "-23310=1,0.0", "-23310=2,0.0"), &bin, ".param", "says 2 values");
}

TEST_F(Ncnn, NonSqueezeNetGraphIsRejected) {
  const std::string param = "7767517\n2 2\nInput in 0 1 in\nConvolution conv 1 1 in out 0=2 1=3 5=1 6=54 9=1\n";
  std::string bin(4, '\0');
  bin.append(54 * 4 + 2 * 4, '\0');
  expect_error(param, &bin, ".param", "has 1 convolutions");
}

}  // namespace
}  // namespace squeezenet
