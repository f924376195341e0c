// GPTQ assignment of weight sharing's codes: against nearest assignment, and the rules sharing keeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <tuple>
#include <vector>

#include "compress/gptq_assign.h"
#include "compress/prune.h"
#include "random_tensor.h"
#include "run_cli.h"
#include "squeezenet/model.h"
#include "squeezenet/weights.h"
#include "temp_dir.h"
#include "test_env.h"
#include "util/io.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

// Weights [O, C, 3, 3] of odd sizes with about a third pruned, and a codebook of `k` non-zero values over their range.
struct Layer {
  Tensor w;
  std::vector<float> codebook;
};

Layer make_layer(int64_t O, int64_t C, int k, uint64_t seed) {
  Layer l{test::random_tensor({O, C, 3, 3}, seed), {0.0f}};
  Rng rng(seed + 1);
  for (int64_t i = 0; i < l.w.numel(); ++i)
    if (rng.uniform(0.0, 1.0) < 0.35) l.w[i] = 0.0f;
  for (int j = 0; j < k; ++j) l.codebook.push_back(static_cast<float>(-0.9 + 1.9 * j / (k - 1)));  // none at zero
  return l;
}

// Second moments [D, D] of inputs mixed from fewer sources (so strongly correlated), some inputs never seen.
std::vector<double> correlated_moments(int64_t D, uint64_t seed) {
  Rng rng(seed);
  const int64_t sources = D / 2 + 1, samples = 4 * D;
  std::vector<double> mix(static_cast<std::size_t>(D * sources)), h(static_cast<std::size_t>(D * D), 0.0), x(D);
  for (double& m : mix) m = rng.uniform(-1.0, 1.0);
  for (int64_t s = 0; s < samples; ++s) {
    std::vector<double> z(static_cast<std::size_t>(sources));
    for (double& v : z) v = rng.uniform(-1.0, 1.0);
    for (int64_t i = 0; i < D; ++i) {
      x[i] = 0.0;
      if (i % 7 == 3) continue;  // an input the calibration never sees
      for (int64_t j = 0; j < sources; ++j) x[i] += mix[i * sources + j] * z[j];
    }
    for (int64_t i = 0; i < D; ++i)
      for (int64_t j = 0; j < D; ++j) h[i * D + j] += x[i] * x[j] / static_cast<double>(samples);
  }
  return h;
}

Tensor nearest(const Layer& l) {
  Tensor q = l.w;
  for (int64_t i = 0; i < q.numel(); ++i) {
    if (q[i] == 0.0f) continue;
    float best = l.codebook[1];
    for (std::size_t j = 2; j < l.codebook.size(); ++j)
      if (std::fabs(l.w[i] - l.codebook[j]) < std::fabs(l.w[i] - best)) best = l.codebook[j];
    q[i] = best;
  }
  return q;
}

// Pruning by output error keeps each block's share of every row and leaves the zeros zero; on correlated inputs it
// costs a dense layer's output less than magnitude pruning of the same density; with identity moments it is
// magnitude pruning per row (nothing to compensate through).
TEST(PruneByOutputError, KeepsTheDensityAndZerosAndBeatsMagnitude) {
  const Layer l = make_layer(6, 5, 7, 21);  // rows of 45 weights, about a third already zero
  const std::vector<double> h = correlated_moments(45, 22);
  Tensor obs = l.w, magnitude;
  prune_by_output_error(obs, 0.3, h);
  for (int64_t o = 0; o < 6; ++o) {
    int kept = 0;
    for (int64_t i = 0; i < 45; ++i) {
      kept += obs[o * 45 + i] != 0.0f;
      if (l.w[o * 45 + i] == 0.0f) {
        ASSERT_EQ(obs[o * 45 + i], 0.0f) << o << " " << i;
      }
    }
    EXPECT_LE(kept, 14) << "row " << o;  // round(0.3 x 45), fewer where zeros were more than the pruned share
    EXPECT_GE(kept, 10) << "row " << o;
  }
  // A dense layer halved: the weights left take back much of what the others did.
  const Tensor dense = test::random_tensor({6, 5, 3, 3}, 21);
  obs = dense, magnitude = dense;
  prune_by_output_error(obs, 0.5, h);
  prune_by_magnitude(magnitude, 0.5);
  EXPECT_LT(output_error(dense, obs, h), 0.5 * output_error(dense, magnitude, h));

  std::vector<double> identity(45 * 45, 0.0);
  for (int i = 0; i < 45; ++i) identity[i * 45 + i] = 1.0;
  Tensor plain = l.w;
  prune_by_output_error(plain, 0.3, identity);
  for (int64_t o = 0; o < 6; ++o) {
    std::vector<float> sizes;
    for (int64_t i = 0; i < 45; ++i) sizes.push_back(std::fabs(l.w[o * 45 + i]));
    std::sort(sizes.begin(), sizes.end());
    for (int64_t i = 0; i < 45; ++i) {
      const float v = plain[o * 45 + i];
      ASSERT_TRUE(v == 0.0f || v == l.w[o * 45 + i]) << "a kept weight moved without correlations";
      if (v != 0.0f) {
        ASSERT_GE(std::fabs(v), sizes[45 - 14]) << "row " << o << " kept a weight outside its largest 14";
      }
    }
  }
}

TEST(GptqAssign, WithIdentityMomentsItIsNearestAssignment) {
  for (bool act_order : {false, true}) {
    const Layer l = make_layer(5, 3, 7, 11);
    std::vector<double> identity(27 * 27, 0.0);
    for (int i = 0; i < 27; ++i) identity[i * 27 + i] = 1.0;
    Tensor q = l.w;
    assign_gptq(q, l.codebook, identity, act_order);
    const Tensor want = nearest(l);
    for (int64_t i = 0; i < q.numel(); ++i) ASSERT_EQ(q[i], want[i]) << i << " act_order " << act_order;
  }
}

TEST(GptqAssign, ZerosStayZeroNonZerosStayNonZeroAndEveryValueIsACentroid) {
  const Layer l = make_layer(9, 5, 15, 21);
  Tensor q = l.w;
  assign_gptq(q, l.codebook, correlated_moments(45, 22));
  int64_t moved = 0;
  for (int64_t i = 0; i < q.numel(); ++i) {
    EXPECT_EQ(q[i] == 0.0f, l.w[i] == 0.0f) << i;
    EXPECT_NE(std::find(l.codebook.begin(), l.codebook.end(), q[i]), l.codebook.end()) << q[i];
    moved += q[i] != nearest(l)[i];
  }
  EXPECT_GT(moved, 0);  // the correlations changed some codes
}

TEST(GptqAssign, LowersTheOutputErrorBelowNearestAssignment) {
  for (auto [O, C, k] : {std::tuple{7, 3, 7}, std::tuple{13, 5, 15}, std::tuple{3, 11, 31}}) {
    for (bool act_order : {false, true}) {
      const Layer l = make_layer(O, C, k, static_cast<uint64_t>(O * 100 + C));
      const std::vector<double> h = correlated_moments(C * 9, static_cast<uint64_t>(k));
      Tensor q = l.w;
      assign_gptq(q, l.codebook, h, act_order);
      const double gptq = output_error(l.w, q, h), near = output_error(l.w, nearest(l), h);
      std::printf("%lldx%lld k %d act_order %d: output error %.4f (GPTQ) against %.4f (nearest)\n", static_cast<long long>(O),
                  static_cast<long long>(C), k, act_order, gptq, near);
      EXPECT_LT(gptq, near) << O << "x" << C << " k " << k << " act_order " << act_order;
    }
  }
}

TEST(GptqAssign, WeightsAlreadyInTheCodebookDoNotMove) {
  Layer l = make_layer(6, 4, 15, 31);
  l.w = nearest(l);
  Tensor q = l.w;
  assign_gptq(q, l.codebook, correlated_moments(36, 32));
  for (int64_t i = 0; i < q.numel(); ++i) ASSERT_EQ(q[i], l.w[i]) << i;
}

TEST(GptqAssign, RefusesMomentsOfAnotherShape) {
  const Layer l = make_layer(2, 2, 3, 41);
  Tensor q = l.w;
  EXPECT_THROW(assign_gptq(q, l.codebook, std::vector<double>(17 * 17, 0.0)), std::exception);
}

TEST(CompressCli, GptqAssignment) {
  const std::string data = test::data_dir();
  const std::string tv11 = data + "/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param";
  ASSERT_TRUE(std::filesystem::exists(tv11)) << tv11;
  test::TempDir dir;
  std::filesystem::create_directory(dir.file("images"));
  for (const char* name : {"a.jpg", "b.jpg", "c.jpg"})
    std::filesystem::copy_file(data + "/imagenet-sample-1000/n01440764_tench.JPEG", dir.file("images/" + std::string(name)));
  const std::string images = dir.file("images"), out = dir.file("x.sqz");

  auto r = test::run_cli("compress -w '" + tv11 + "' --gptq '" + images + "' --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("--gptq needs --bits"), std::string::npos) << r.output;
  r = test::run_cli("compress -w '" + tv11 + "' --bits 6 --gptq '" + dir.file("nowhere") + "' --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("nowhere"), std::string::npos) << r.output;
  std::filesystem::create_directory(dir.file("empty"));
  r = test::run_cli("compress -w '" + tv11 + "' --bits 6 --gptq '" + dir.file("empty") + "' --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  std::filesystem::copy_file(tv11, dir.file("images/d.jpg"));  // not an image
  r = test::run_cli("compress -w '" + tv11 + "' --bits 6 --gptq '" + images + "' --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("d.jpg"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  std::filesystem::remove(dir.file("images/d.jpg"));

  // Every second image: 2 of the 3.
  r = test::run_cli("compress -w '" + tv11 + "' --bits 6 --fp16 --gptq '" + images + "' --tune-every 2 --batch 1 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("GPTQ moments: 2 / 2 images"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(out));
  r = test::run_cli("compress --help");
  EXPECT_NE(r.output.find("--gptq"), std::string::npos);

  // Pruning by output error: refused without what it needs, and each conv keeps the density asked.
  for (const std::string& bad : {std::string("--density 0.5 --prune-by output-error"),
                                 "--density 0.5 --prune-by size --gptq '" + images + "'",
                                 "--prune-by output-error --gptq '" + images + "'",
                                 "--density 0.5 --prune-by output-error --gptq '" + images + "' --prune-epochs 1"}) {
    r = test::run_cli("compress -w '" + tv11 + "' --bits 6 " + bad + " --out '" + out + "'");
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find("--prune-by"), std::string::npos) << r.output;
  }
  r = test::run_cli("compress -w '" + tv11 + "' --bits 6 --density features.3.expand3x3=0.25,classifier.1=0.5 "
                    "--prune-by output-error --gptq '" + images + "' --batch 3 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Model pruned = Model::from_weights(load_weights(out), out);
  for (const auto& [name, density] : {std::pair{"features.3.expand3x3", 0.25}, std::pair{"classifier.1", 0.5}}) {
    const Tensor& w = pruned.parameter(std::string(name) + ".weight");
    int64_t kept = 0;
    for (int64_t i = 0; i < w.numel(); ++i) kept += w[i] != 0.0f;
    EXPECT_NEAR(static_cast<double>(kept) / static_cast<double>(w.numel()), density, 0.01) << name;
  }

  // The authors' file at 8 bits is shared losslessly: GPTQ moves nothing either.
  const std::string net = data + "/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net";
  const std::string plain = dir.file("plain.sqz"), gptq = dir.file("gptq.sqz");
  ASSERT_EQ(test::run_cli("compress -w '" + net + "' --bits 8 --out '" + plain + "'").exit_code, 0);
  r = test::run_cli("compress -w '" + net + "' --bits 8 --gptq '" + images + "' --batch 3 --out '" + gptq + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(plain), read_file(gptq));
}

}  // namespace
}  // namespace squeezenet
