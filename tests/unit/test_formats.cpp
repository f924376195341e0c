// The project's own formats (safetensors, .npy, Deep-Compression) and the rules every reader shares: bad files
// give an Error that names the file, never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "formats/readers.h"
#include "squeezenet/error.h"
#include "squeezenet/model.h"
#include "expect_error.h"
#include "temp_dir.h"
#include "test_env.h"
#include "util/io.h"

namespace squeezenet {
namespace {

using test::expect_error;

WeightFile sample(Arch arch = Arch::squeezenet1_1, int classes = 10) {
  ModelConfig c;
  c.arch = arch;
  c.num_classes = classes;
  return Model(c, 11).to_weights("torchvision");
}

std::string with_header(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  return out + json + data;
}

TEST(Safetensors, RoundTripKeepsEveryTensorAndTheMetadata) {
  test::TempDir dir;
  const WeightFile wf = sample();
  save_weights(wf, dir.file("m.safetensors"), Format::safetensors);
  EXPECT_EQ(detect_format(dir.file("m.safetensors")), Format::safetensors);
  const WeightFile back = load_weights(dir.file("m.safetensors"));
  EXPECT_EQ(back.metadata, wf.metadata);
  ASSERT_EQ(back.tensors.size(), wf.tensors.size());
  for (const auto& [name, t] : wf.tensors) {
    ASSERT_EQ(back.tensors.at(name).shape(), t.shape()) << name;
    EXPECT_EQ(max_abs_diff(back.tensors.at(name), t), 0.0f) << name;
  }
  // The atomic writer leaves no temporary files behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(Safetensors, BadFilesAreRejectedWithTheirName) {
  test::TempDir dir;
  save_weights(sample(), dir.file("good.safetensors"), Format::safetensors);
  const std::string good = read_file(dir.file("good.safetensors"));

  const auto truncated = dir.write("truncated.safetensors", good.substr(0, good.size() - 1000));
  expect_error([&] { load_weights(truncated); }, {"truncated.safetensors", "outside"});
  const auto short_file = dir.write("short.safetensors", good.substr(0, 5));
  expect_error([&] { load_weights(short_file, Format::safetensors); }, {"short.safetensors", "truncated"});
  std::string bad_json = good;
  bad_json[8] = '#';
  const auto corrupt = dir.write("corrupt.safetensors", bad_json);
  expect_error([&] { load_weights(corrupt); }, {"corrupt.safetensors", "JSON"});
  const auto huge_header = dir.write("huge.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10));
  expect_error([&] { load_weights(huge_header); }, {"huge.safetensors", "header length"});
  const auto overflow = dir.write(
      "overflow.safetensors",
      with_header(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}})", "abcd"));
  expect_error([&] { load_weights(overflow); }, {"overflow.safetensors"});
  const auto mismatch = dir.write(
      "mismatch.safetensors", with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd"));
  expect_error([&] { load_weights(mismatch); }, {"mismatch.safetensors", "'a'", "needs 8"});
  const auto dtype = dir.write(
      "dtype.safetensors", with_header(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", "abcdefgh"));
  expect_error([&] { load_weights(dtype); }, {"dtype.safetensors", "I64"});
  const auto empty = dir.write("empty.safetensors", "");
  expect_error([&] { load_weights(empty); }, {"empty.safetensors"});
  expect_error([&] { load_weights(dir.file("missing.safetensors")); }, {"missing.safetensors"});
}

TEST(Safetensors, HalfPrecisionTensorsAreWidened) {
  test::TempDir dir;
  const std::string data("\x00\x3c\x00\xc0\x00\x7c", 6);  // 1.0, -2.0, +inf in IEEE half
  const auto f = dir.write("h.safetensors", with_header(R"({"a":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}})", data));
  const WeightFile wf = load_weights(f);
  EXPECT_EQ(wf.tensors.at("a")[0], 1.0f);
  EXPECT_EQ(wf.tensors.at("a")[1], -2.0f);
  EXPECT_TRUE(std::isinf(wf.tensors.at("a")[2]));
}

TEST(Weights, WrongArchAndNonFiniteValuesAreCaughtOnLoad) {
  test::TempDir dir;
  WeightFile wf = sample();
  wf.tensors["classifier.1.bias"][3] = INFINITY;
  save_weights(wf, dir.file("inf.safetensors"), Format::safetensors);
  expect_error([&] { Model::from_weights(load_weights(dir.file("inf.safetensors")), dir.file("inf.safetensors")); },
               {"inf.safetensors", "classifier.1.bias", "non-finite"});
  WeightFile arch = sample();
  arch.metadata["arch"] = "squeezenet1_0";
  expect_error([&] { Model::from_weights(arch, "arch.safetensors"); }, {"arch.safetensors", "squeezenet1_1"});
}

TEST(Formats, DetectionAndOutputNames) {
  test::TempDir dir;
  const auto junk = dir.write("junk.bin", "hello world, not weights");
  expect_error([&] { load_weights(junk); }, {"junk.bin", "unrecognised"});
  expect_error([&] { format_for_output("x.tflite"); }, {"x.tflite"});
  EXPECT_EQ(format_for_output("a/b.pth"), Format::pth);
  EXPECT_EQ(parse_format("deep-compression"), Format::deep_compression);
  expect_error([&] { parse_format("tflite"); }, {"tflite", "safetensors"});
  expect_error([&] { load_weights(dir.path().string()); }, {dir.path().string(), "folder"});
}

TEST(Npy, ReadsTheOnnxZooFolderAndRejectsBrokenArrays) {
  const std::string folder = test::data_dir() + "/webnn-squeezenet1.1-nchw-npy/weights";
  ASSERT_TRUE(std::filesystem::exists(folder)) << folder;
  const WeightFile wf = load_weights(folder);
  EXPECT_EQ(wf.tensors.size(), 52u);
  EXPECT_EQ(wf.tensors.at("features.0.weight").shape(), (Shape{64, 3, 3, 3}));
  EXPECT_EQ(wf.tensors.at("features.12.expand3x3.weight").shape(), (Shape{256, 64, 3, 3}));
  EXPECT_EQ(wf.tensors.at("classifier.1.weight").shape(), (Shape{1000, 512, 1, 1}));
  EXPECT_EQ(Model::from_weights(wf, folder).num_parameters(), 1235496);

  test::TempDir dir;
  const std::string good = read_file(folder + "/squeezenet0_conv0_bias.npy");
  const auto truncated = dir.write("t.npy", good.substr(0, good.size() - 4));
  expect_error([&] { read_npy(truncated); }, {"t.npy", "needs"});
  const auto magic = dir.write("m.npy", "\x92NUMPY" + good.substr(6));
  expect_error([&] { read_npy(magic); }, {"m.npy", "magic"});
  std::string int_dtype = good;
  int_dtype.replace(int_dtype.find("<f4"), 3, "<i8");
  const auto ints = dir.write("i.npy", int_dtype);
  expect_error([&] { read_npy(ints); }, {"i.npy", "i8"});
}

TEST(DeepCompression, EveryTensorHasTorchvisionsShapeAndTheCaffeHead) {
  const std::string file = test::data_dir() + "/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net";
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  const WeightFile wf = load_weights(file);
  const Model m = Model::from_weights(wf, file);
  for (const std::string& name : m.parameter_names())
    EXPECT_EQ(wf.tensors.at(name).shape(), m.parameter(name).shape()) << name;
  EXPECT_EQ(m.config().final_conv_pad, 1);
  EXPECT_EQ(wf.metadata.at("preset"), "caffe");
  // conv1 keeps 13902 entries of 14112 weights (SOURCE.md); fillers (code 0) make the non-zeros at most that.
  int64_t nz = 0;
  const Tensor& w0 = wf.tensors.at("features.0.weight");
  for (int64_t i = 0; i < w0.numel(); ++i) nz += w0[i] != 0.0f;
  EXPECT_GT(nz, 13000);
  EXPECT_LE(nz, 13902);

  test::TempDir dir;
  const std::string bytes = read_file(file);
  const auto truncated = dir.write("cut.net", bytes.substr(0, bytes.size() / 2));
  expect_error([&] { load_weights(truncated); }, {"cut.net", "truncated"});
  std::string bad_count = bytes;
  const uint32_t huge = 0xffffffffu;
  std::memcpy(bad_count.data(), &huge, 4);
  const auto counts = dir.write("count.net", bad_count);
  expect_error([&] { load_weights(counts); }, {"count.net", "features.0"});
  const auto trailing = dir.write("trail.net", bytes + "x");
  expect_error([&] { load_weights(trailing); }, {"trail.net", "trailing"});
}

}  // namespace
}  // namespace squeezenet
