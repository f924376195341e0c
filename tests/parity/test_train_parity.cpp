// Loss, every gradient and the parameters after 1 and 10 SGD steps against PyTorch, from the files that
// tests/fixtures/make_train_fixtures.py writes. Prints the largest relative difference per quantity.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "squeezenet/error.h"
#include "squeezenet/train.h"
#include "squeezenet/weights.h"
#include "test_env.h"

namespace squeezenet {
namespace {

float max_abs(const Tensor& t) {
  float m = 0.0f;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t[i]));
  return m;
}

// max |got - want| / max |want|: float rounding in a different summation order stays far below 1e-4.
float relative_diff(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.shape(), want.shape());
  if (got.shape() != want.shape()) return INFINITY;
  return max_abs_diff(got, want) / std::max(max_abs(want), 1e-20f);
}

Tensor minus(const Tensor& a, const Tensor& b) {
  Tensor d(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) d[i] = a[i] - b[i];
  return d;
}

struct Fixture {
  WeightFile file;
  Model model;  // the fixture's initial parameters, dropout 0
  Tensor input;
  std::vector<int> labels;
  double lr = 0.0;
  const Tensor& at(const std::string& name) const {
    auto it = file.tensors.find(name);
    if (it == file.tensors.end()) throw Error("fixture lacks tensor " + name);
    return it->second;
  }
};

Fixture load(const std::string& arch) {
  const std::string path = test::fixtures_dir() + "/train/" + arch + ".safetensors";
  if (!std::filesystem::exists(path)) throw Error(path + " missing: run tests/fixtures/make_train_fixtures.py");
  Fixture f{load_weights(path), Model(ModelConfig{parse_arch(arch), 10, 0.0f}), {}, {}};
  for (const std::string& name : f.model.parameter_names()) f.model.parameter(name) = f.at("param." + name);
  f.input = f.at("input");
  f.lr = std::stod(f.file.metadata.at("lr"));
  for (int64_t i = 0; i < f.at("labels").numel(); ++i) f.labels.push_back(static_cast<int>(f.at("labels")[i]));
  return f;
}

class TrainParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainParity, LossAndGradientsMatchPyTorch) {
  const Fixture f = load(GetParam());
  for (bool reference : {false, true}) {
    Backprop bp(f.model, false, reference);
    const Tensor logits = bp.forward(f.input, true);
    EXPECT_LE(relative_diff(logits, f.at("logits")), 1e-4f);
    const LossResult loss = cross_entropy(logits, f.labels);
    const LossResult smooth = cross_entropy(logits, f.labels, 0.1f);
    EXPECT_NEAR(loss.loss, f.at("loss")[0], 1e-4 * std::fabs(f.at("loss")[0]));
    EXPECT_NEAR(smooth.loss, f.at("loss_smooth")[0], 1e-4 * std::fabs(f.at("loss_smooth")[0]));
    Gradients grads = zero_gradients(f.model);
    bp.backward(loss.grad, grads);
    float worst = 0.0f;
    std::string worst_name;
    for (const auto& [name, g] : grads) {
      const float d = relative_diff(g, f.at("grad." + name));
      EXPECT_LE(d, 1e-4f) << name;
      if (d >= worst) worst = d, worst_name = name;
    }
    std::printf("train parity %s %-9s loss %.6f (torch %.6f)  worst gradient rel diff %.2e (%s)\n",
                GetParam().c_str(), reference ? "reference" : "gemm", loss.loss, f.at("loss")[0], worst,
                worst_name.c_str());
  }
}

struct OptimiserCase {
  const char* name;
  SgdOptions options;
  double classifier_mult;
};

TEST_P(TrainParity, SgdStepsMatchPyTorch) {
  const Fixture f = load(GetParam());
  const OptimiserCase cases[] = {
      {"momentum", {0.9, 0.0, 5e-4, false}, 1.0},
      {"nesterov", {0.9, 0.0, 5e-4, true}, 1.0},
      {"groups", {0.9, 0.1, 5e-4, false}, 10.0},
  };
  for (const OptimiserCase& c : cases) {
    Model model = f.model;
    Sgd sgd(c.options);
    for (const std::string& name : model.parameter_names())
      if (name.starts_with("classifier.")) sgd.set_lr_mult(name, c.classifier_mult);
    const int steps = std::string(c.name) == "groups" ? 1 : 10;  // keeps the test short; groups differ at once
    for (int step = 1; step <= steps; ++step) {
      Backprop bp(model);
      const LossResult loss = cross_entropy(bp.forward(f.input, true), f.labels);
      Gradients grads = zero_gradients(model);
      bp.backward(loss.grad, grads);
      sgd.step(model, grads, f.lr);
      if (step != 1 && step != 10) continue;
      // The parameters must match within 1e-4 of their size. The learning rate is small because on these tiny
      // maps a value at a ReLU's kink, or two values of a max-pool window, can tie to within rounding, and a
      // different summation order then routes a gradient the other way: at 10x the rate such a fork grows
      // past 1e-4 within ten steps. The optimiser's arithmetic is held tighter after the first step, against
      // the size of the update (parameter minus its start), where float cancellation alone leaves ~5e-3.
      float worst = 0.0f, worst_update = 0.0f;
      for (const std::string& name : model.parameter_names()) {
        const Tensor& start = f.model.parameter(name);
        const Tensor& want = f.at("step" + std::to_string(step) + "." + c.name + "." + name);
        const float d = relative_diff(model.parameter(name), want);
        EXPECT_LE(d, 1e-4f) << c.name << " step " << step << " " << name;
        worst = std::max(worst, d);
        worst_update = std::max(worst_update, relative_diff(minus(model.parameter(name), start), minus(want, start)));
      }
      if (step == 1) {
        EXPECT_LE(worst_update, 2e-2f) << c.name;
      }
      std::printf("train parity %s sgd %-8s after %2d steps: parameters rel diff %.2e (of the update %.2e)\n",
                  GetParam().c_str(), c.name, step, worst, worst_update);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, TrainParity, ::testing::Values("squeezenet1_0", "squeezenet1_1"));

}  // namespace
}  // namespace squeezenet
