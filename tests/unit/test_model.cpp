#include <gtest/gtest.h>

#include <cmath>

#include "squeezenet/error.h"
#include "squeezenet/model.h"

namespace squeezenet {
namespace {

ModelConfig config(Arch arch, int classes = 1000) {
  ModelConfig c;
  c.arch = arch;
  c.num_classes = classes;
  return c;
}

TEST(Model, ParameterCountsAreTorchvisions) {
  EXPECT_EQ(Model(config(Arch::squeezenet1_0)).num_parameters(), 1248424);
  EXPECT_EQ(Model(config(Arch::squeezenet1_1)).num_parameters(), 1235496);
  EXPECT_EQ(Model(config(Arch::squeezenet1_1, 10)).num_parameters(), 1235496 - 990 * 513);
}

TEST(Model, StateDictNamesInTorchvisionOrder) {
  const auto names = Model(config(Arch::squeezenet1_1)).parameter_names();
  ASSERT_EQ(names.size(), 52u);
  EXPECT_EQ(names[0], "features.0.weight");
  EXPECT_EQ(names[1], "features.0.bias");
  EXPECT_EQ(names[2], "features.3.squeeze.weight");
  EXPECT_EQ(names[4], "features.3.expand1x1.weight");
  EXPECT_EQ(names[6], "features.3.expand3x3.weight");
  EXPECT_EQ(names[8], "features.4.squeeze.weight");
  EXPECT_EQ(names[14], "features.6.squeeze.weight");  // features.5 is a MaxPool in 1.1
  EXPECT_EQ(names[50], "classifier.1.weight");
  const auto v10 = Model(config(Arch::squeezenet1_0)).parameter_names();
  EXPECT_EQ(v10[20], "features.7.squeeze.weight");  // features.6 is a MaxPool in 1.0
  EXPECT_EQ(v10[44], "features.12.squeeze.weight");
}

TEST(Model, InitialisationFollowsTorchvision) {
  const Model m(config(Arch::squeezenet1_0), 7);
  const Tensor& w0 = m.parameter("features.0.weight");
  const double bound = std::sqrt(6.0 / (3 * 7 * 7));
  double max_abs = 0, mean = 0;
  for (int64_t i = 0; i < w0.numel(); ++i) {
    max_abs = std::max(max_abs, static_cast<double>(std::fabs(w0[i])));
    mean += w0[i];
  }
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.99 * bound);
  EXPECT_NEAR(mean / static_cast<double>(w0.numel()), 0.0, 0.01);
  const Tensor& wf = m.parameter("classifier.1.weight");
  double s2 = 0;
  for (int64_t i = 0; i < wf.numel(); ++i) s2 += static_cast<double>(wf[i]) * wf[i];
  EXPECT_NEAR(std::sqrt(s2 / static_cast<double>(wf.numel())), 0.01, 0.0005);
  for (const std::string& n : m.parameter_names()) {
    if (!n.ends_with(".bias")) continue;
    for (int64_t i = 0; i < m.parameter(n).numel(); ++i) ASSERT_EQ(m.parameter(n)[i], 0.0f) << n;
  }
  // Seeded: the same seed gives the same weights, another seed others.
  EXPECT_EQ(Model(config(Arch::squeezenet1_0), 7).parameter("features.0.weight")[5], w0[5]);
  EXPECT_NE(Model(config(Arch::squeezenet1_0), 8).parameter("features.0.weight")[5], w0[5]);
}

TEST(Model, CeilModePoolingUsesPyTorchsRule) {
  EXPECT_EQ(pool_output_size(111, 3, 2), 55);
  EXPECT_EQ(pool_output_size(113, 3, 2), 56);
  EXPECT_EQ(pool_output_size(109, 3, 2), 54);
  EXPECT_EQ(pool_output_size(56, 3, 2), 28);  // floor would give 27
  EXPECT_EQ(pool_output_size(2, 3, 2), 1);    // window hangs over but starts inside
  EXPECT_EQ(pool_output_size(1, 3, 2), 0);
  EXPECT_EQ(pool_output_size(56, 3, 2, false), 27);
}

TEST(Model, SummaryShapesFor224) {
  const auto v10 = summarize(config(Arch::squeezenet1_0), 224, 224);
  EXPECT_EQ(v10[0].output, (Shape{96, 109, 109}));
  EXPECT_EQ(v10[2].output, (Shape{96, 54, 54}));
  EXPECT_EQ(v10[12].output, (Shape{512, 13, 13}));
  EXPECT_EQ(v10.back().output, (Shape{1000, 1, 1}));
  int64_t macs = 0;
  for (const auto& r : v10) macs += r.macs;
  EXPECT_EQ(macs, 818924576);  // the 818.9 M the benchmarks quote
  macs = 0;
  for (const auto& r : summarize(config(Arch::squeezenet1_1), 224, 224)) macs += r.macs;
  EXPECT_EQ(macs, 349151936);
  const auto v11 = summarize(config(Arch::squeezenet1_1), 227, 227);
  EXPECT_EQ(v11[0].output, (Shape{64, 113, 113}));
  EXPECT_EQ(v11[12].output, (Shape{512, 14, 14}));
}

TEST(Model, RejectsInputsTooSmallAndBadShapes) {
  const ModelConfig c = config(Arch::squeezenet1_1);
  EXPECT_NO_THROW(check_input(c, {1, 3, 17, 17}));
  EXPECT_THROW(check_input(c, {1, 3, 16, 16}), Error);
  EXPECT_THROW(check_input(c, {1, 3, 224}), Error);
  EXPECT_THROW(check_input(c, {1, 1, 224, 224}), Error);
  EXPECT_THROW(check_input(c, {0, 3, 224, 224}), Error);
  try {
    check_input(config(Arch::squeezenet1_0), {1, 3, 20, 20});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too small"), std::string::npos) << e.what();
  }
}

TEST(Model, FromWeightsValidatesNamesShapesAndValues) {
  const Model m(config(Arch::squeezenet1_1, 10), 3);
  WeightFile wf = m.to_weights();
  EXPECT_EQ(Model::from_weights(wf).config().num_classes, 10);

  auto expect_error = [](const WeightFile& w, const std::string& needle) {
    try {
      Model::from_weights(w, "x.safetensors");
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("x.safetensors"), std::string::npos) << e.what();
    }
  };
  WeightFile missing = wf;
  missing.tensors.erase("features.9.expand3x3.bias");
  expect_error(missing, "features.9.expand3x3.bias");
  WeightFile extra = wf;
  extra.tensors["features.99.weight"] = Tensor({1});
  expect_error(extra, "features.99.weight");
  WeightFile shape = wf;
  shape.tensors["features.3.squeeze.weight"] = Tensor({16, 64, 3, 3});
  expect_error(shape, "features.3.squeeze.weight");
  WeightFile nan = wf;
  nan.tensors["features.4.expand1x1.weight"][17] = std::nanf("");
  expect_error(nan, "features.4.expand1x1.weight");
  WeightFile arch = wf;
  arch.metadata["arch"] = "squeezenet1_0";
  expect_error(arch, "squeezenet1_0");
  WeightFile first = wf;
  first.tensors["features.0.weight"] = Tensor({32, 3, 3, 3});
  expect_error(first, "features.0.weight");
}

}  // namespace
}  // namespace squeezenet
