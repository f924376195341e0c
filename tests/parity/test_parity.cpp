// Our logits against torchvision's, for every case that tests/fixtures/make_fixtures.py wrote, through both .pth
// formats; and the real weights in ../shared/data against their reference outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/readers.h"
#include "squeezenet/model.h"
#include "test_env.h"
#include "util/io.h"

namespace squeezenet {
namespace {

Tensor read_raw(const std::string& path, const Shape& shape) {
  const std::string bytes = read_file(path);
  EXPECT_EQ(bytes.size(), static_cast<std::size_t>(numel_of(shape)) * 4) << path;
  return Tensor(shape, reinterpret_cast<const float*>(bytes.data()));
}

nlohmann::json manifest() {
  std::ifstream in(test::fixtures_dir() + "/manifest.json");
  if (!in) return nlohmann::json::object();
  return nlohmann::json::parse(in);
}

Shape shape_of(const nlohmann::json& j) { return j.get<Shape>(); }

struct Case {
  nlohmann::json spec;
  std::string weights_key;
};

class TorchvisionParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchvisionParity, LogitsMatchTorchvisionWithin1e4) {
  const auto m = manifest();
  ASSERT_TRUE(m.contains("cases")) << "no fixtures in " << test::fixtures_dir() << ": run make_fixtures.py";
  const std::string key = GetParam();
  int checked = 0;
  for (const auto& c : m["cases"]) {
    const std::string dir = test::fixtures_dir() + "/";
    const Tensor x = read_raw(dir + c["name"].get<std::string>() + ".input.bin", shape_of(c["input_shape"]));
    const Tensor want = read_raw(dir + c["name"].get<std::string>() + ".logits.bin", shape_of(c["logits_shape"]));
    const std::string weights = dir + c[key].get<std::string>();
    const Model model = Model::from_weights(load_weights(weights), weights);
    EXPECT_EQ(arch_name(model.config().arch), c["arch"].get<std::string>());
    EXPECT_EQ(model.config().num_classes, c["classes"].get<int>());
    const Tensor got = model.forward(x);
    const float diff = max_abs_diff(got, want);
    float scale = 0.0f;
    for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(want[i]));
    std::printf("parity %-24s %-15s max|logit| %7.3f  max abs diff %.2e\n", c["name"].get<std::string>().c_str(),
                key.c_str(), scale, diff);
    EXPECT_LE(diff, 1e-4f) << c["name"] << " via " << weights;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(PthFormats, TorchvisionParity, ::testing::Values("weights", "weights_legacy"));

TEST(RealWeights, DeepCompressionMatchesIndependentDecodeInTorch) {
  const auto m = manifest();
  ASSERT_TRUE(m.contains("real"));
  const std::string file = test::data_dir() + "/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net";
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  ASSERT_EQ(m["real"].size(), 1u);
  const auto& c = m["real"][0];
  const WeightFile wf = load_weights(file);
  const Model model = Model::from_weights(wf, file);
  EXPECT_EQ(model.config().arch, Arch::squeezenet1_0);
  EXPECT_EQ(model.config().final_conv_pad, 1);
  EXPECT_EQ(model.num_parameters(), 1248424);
  int64_t nonzero = 0;
  for (const auto& [name, t] : wf.tensors)
    if (name.ends_with(".weight"))
      for (int64_t i = 0; i < t.numel(); ++i) nonzero += t[i] != 0.0f;
  EXPECT_EQ(nonzero, c["nonzero"].get<int64_t>());
  const std::string dir = test::fixtures_dir() + "/";
  const Tensor x = read_raw(dir + "deep_compression.input.bin", shape_of(c["input_shape"]));
  const Tensor want = read_raw(dir + "deep_compression.logits.bin", shape_of(c["logits_shape"]));
  const Tensor got = model.forward(x);
  float scale = 0.0f;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(want[i]));
  const float diff = max_abs_diff(got, want);
  std::printf("deep-compression v1.0: %lld non-zero weights, max|logit| %.2f, max abs diff %.2e\n",
              static_cast<long long>(nonzero), scale, diff);
  EXPECT_LE(diff, 1e-5f * std::max(1.0f, scale));
}

TEST(RealWeights, OnnxZooSqueezeNet11ReproducesItsReferenceOutputs) {
  const std::string dir = test::data_dir() + "/webnn-squeezenet1.1-nchw-npy";
  ASSERT_TRUE(std::filesystem::exists(dir)) << dir;
  const Model model = Model::from_weights(load_weights(dir + "/weights"), dir);
  EXPECT_EQ(model.config().arch, Arch::squeezenet1_1);
  EXPECT_EQ(model.num_parameters(), 1235496);
  for (int k = 0; k < 3; ++k) {
    const std::string set = dir + "/test_data_set_" + std::to_string(k);
    const Tensor x = read_npy(set + "/input_0.npy");
    Tensor want = read_npy(set + "/output_0.npy");
    const Tensor got = model.forward(x);
    want.reshape(got.shape());
    float scale = 0.0f;
    for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(want[i]));
    const float diff = max_abs_diff(got, want);
    std::printf("onnx-zoo squeezenet1.1 set %d: max|logit| %.1f, max abs diff %.2e\n", k, scale, diff);
    // The ONNX test data's own tolerance is rtol 1e-3; we hold ourselves to 2e-6 of the logit scale.
    EXPECT_LE(diff, 2e-6f * scale);
  }
}

}  // namespace
}  // namespace squeezenet
