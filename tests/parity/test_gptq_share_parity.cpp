// GPTQ assignment of shared weights against PyTorch's, from the file tests/fixtures/make_gptq_fixtures.py writes:
// the same codes, and the same output error to 1e-9.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "compress/gptq_assign.h"
#include "squeezenet/error.h"
#include "squeezenet/weights.h"
#include "test_env.h"

namespace squeezenet {
namespace {

TEST(GptqShareParity, SameCodesAndOutputErrorAsPyTorch) {
  const std::string path = test::fixtures_dir() + "/gptq/gptq_assign.safetensors";
  if (!std::filesystem::exists(path)) throw Error(path + " missing: run tests/fixtures/make_gptq_fixtures.py");
  const WeightFile f = load_weights(path);
  std::stringstream cases(f.metadata.at("cases"));
  int checked = 0;
  for (std::string name; std::getline(cases, name, ',');) {
    const Tensor& w = f.tensors.at(name + ".w");
    const Tensor& h = f.tensors.at(name + ".h");
    const Tensor& cb = f.tensors.at(name + ".codebook");
    const Tensor& want = f.tensors.at(name + ".q");
    const std::vector<double> moments(h.data(), h.data() + h.numel());
    const std::vector<float> codebook(cb.data(), cb.data() + cb.numel());
    Tensor q = w;
    assign_gptq(q, codebook, moments, f.metadata.at(name + ".act_order") == "1");
    int64_t different = 0;
    for (int64_t i = 0; i < q.numel(); ++i) different += q[i] != want[i];
    const double objective = output_error(w, q, moments), torch = std::stod(f.metadata.at(name + ".objective"));
    std::printf("%s: %lld of %lld codes differ; output error %.17g here, %.17g in PyTorch\n", name.c_str(),
                static_cast<long long>(different), static_cast<long long>(q.numel()), objective, torch);
    EXPECT_LE(different, 2) << name;  // a tie at rounding precision, no more
    EXPECT_NEAR(objective, torch, 1e-9 * torch) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

}  // namespace
}  // namespace squeezenet
