// Sequential fitting of GPTQ assignment: each conv fitted to the inputs the network with every earlier conv shared
// gives it, its weights first moved by the int8 path's ridge fit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "compress/compress.h"
#include "compress/conv_moments.h"
#include "compress/gptq_assign.h"
#include "random_tensor.h"
#include "run_cli.h"
#include "squeezenet/error.h"
#include "temp_dir.h"
#include "test_env.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

// Inputs x [N, C, H, W] and x_q, a noisy copy, of a conv of odd shape, with their moments and cross moments.
struct Inputs {
  Conv2dSpec spec{};
  Tensor x, x_q;
  quant::InputMoments moments;
};

Inputs make_inputs(uint64_t seed) {
  Inputs in;
  in.spec.kernel = 3;
  in.spec.stride = 1;
  in.spec.padding = 1;
  in.x = test::random_tensor({3, 5, 7, 9}, seed);
  in.x_q = in.x;
  Rng rng(seed + 1);
  for (int64_t i = 0; i < in.x_q.numel(); ++i) in.x_q[i] += static_cast<float>(rng.uniform(-0.2, 0.2));
  in.moments.add("conv", in.spec, in.x, in.x_q);
  return in;
}

TEST(GptqSequential, TheMoveIsTheRidgeOptimumForTheSharedInputs) {
  const Inputs in = make_inputs(3);
  const std::size_t D = 5 * 3 * 3;
  const std::vector<double> h = in.moments.moments("conv");
  const std::vector<double> move = in.moments.fit_move("conv", h, [](std::size_t) { return 1.0; });
  ASSERT_EQ(move.size(), D * D);
  // The cross moments E[x x_q^T] over the same sampled positions (every one here: 63 per image < kPixels).
  std::vector<double> cross(D * D, 0.0);
  double count = 0.0, diagonal = 0.0;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t oh = 0; oh < 7; ++oh)
      for (int64_t ow = 0; ow < 9; ++ow) {
        const auto at = [&](const Tensor& t, std::size_t i) {
          const int64_t c = static_cast<int64_t>(i) / 9, ih = oh - 1 + static_cast<int64_t>(i) % 9 / 3,
                        iw = ow - 1 + static_cast<int64_t>(i) % 3;
          return ih < 0 || ih >= 7 || iw < 0 || iw >= 9 ? 0.0 : static_cast<double>(t[((n * 5 + c) * 7 + ih) * 9 + iw]);
        };
        for (std::size_t i = 0; i < D; ++i)
          for (std::size_t j = 0; j < D; ++j) cross[i * D + j] += at(in.x, i) * at(in.x_q, j);
        count += 1.0;
      }
  for (std::size_t i = 0; i < D; ++i) diagonal += h[i * D + i] / static_cast<double>(D);
  const double damping = quant::InputMoments::kFitDamping * diagonal;
  // w' = w + w M minimises ||w x - w' x_q||^2 + damping ||w' - w||^2: its gradient, w' (H + damping) - w (C + damping),
  // is zero.
  const Tensor w = test::random_tensor({4, 5, 3, 3}, 9);
  std::vector<double> row(D), moved(D);
  for (int64_t o = 0; o < 4; ++o) {
    for (std::size_t i = 0; i < D; ++i) row[i] = w[o * static_cast<int64_t>(D) + static_cast<int64_t>(i)];
    quant::apply_move(move, row, moved);
    double largest = 0.0;
    for (std::size_t j = 0; j < D; ++j) {
      double g = damping * (moved[j] - row[j]);
      for (std::size_t i = 0; i < D; ++i) g += moved[i] * h[i * D + j] - row[i] * cross[i * D + j] / count;
      largest = std::max(largest, std::fabs(g));
    }
    EXPECT_LT(largest, 1e-9) << o;
  }
  // The int8 path moves by the same fit: its per-channel scale is the moved row's largest |w'| / 127.
  QuantizedConv q;
  q.name = "conv";
  in.moments.quantize(w, {}, q);
  for (int64_t o = 0; o < 4; ++o) {
    for (std::size_t i = 0; i < D; ++i) row[i] = w[o * static_cast<int64_t>(D) + static_cast<int64_t>(i)];
    quant::apply_move(move, row, moved);
    double amax = 0.0;
    for (double v : moved) amax = std::max(amax, std::fabs(v));
    EXPECT_EQ(q.weight_scale[static_cast<std::size_t>(o)], static_cast<float>(amax / 127.0)) << o;
  }
}

TEST(GptqSequential, MovedRowsKeepZerosAndTakeNonZeroCentroids) {
  const Inputs in = make_inputs(5);
  const std::vector<double> h = in.moments.moments("conv");
  const std::vector<double> move = in.moments.fit_move("conv", h, [](std::size_t) { return 1.0; });
  Tensor w = test::random_tensor({6, 5, 3, 3}, 11);
  Rng rng(12);
  for (int64_t i = 0; i < w.numel(); ++i)
    if (rng.uniform(0.0, 1.0) < 0.4) w[i] = 0.0f;
  std::vector<float> codebook{0.0f};
  for (int j = 0; j < 15; ++j) codebook.push_back(-1.05f + 0.15f * static_cast<float>(j));  // none at zero
  Tensor moved = w, unmoved = w;
  assign_gptq(moved, codebook, h, true, move);
  assign_gptq(unmoved, codebook, h, true);
  for (int64_t i = 0; i < w.numel(); ++i) {
    if (w[i] == 0.0f) {
      EXPECT_EQ(moved[i], 0.0f) << i;
    } else {
      EXPECT_NE(moved[i], 0.0f) << i;
      EXPECT_NE(std::find(codebook.begin() + 1, codebook.end(), moved[i]), codebook.end()) << i;
    }
  }
  EXPECT_GT(max_abs_diff(moved, unmoved), 0.0f);  // the move changed codes
  EXPECT_THROW(assign_gptq(moved, codebook, h, true, std::vector<double>(17, 0.0)), Error);
}

// Rounds every weight of `name` to 14 non-zero levels, so that 4-bit sharing keeps it exactly.
void make_exact(WeightFile& weights, const std::string& name) {
  Tensor& w = weights.tensors.at(name + ".weight");
  float amax = 0.0f;
  for (int64_t i = 0; i < w.numel(); ++i) amax = std::max(amax, std::fabs(w[i]));
  for (int64_t i = 0; i < w.numel(); ++i) w[i] = std::clamp(std::round(w[i] / amax * 7.0f), -7.0f, 7.0f) * amax / 7.0f;
}

TEST(GptqSequential, WithExactEarlierCodebooksItIsTheFp32Fit) {
  const std::string image = test::data_dir() + "/imagenet-sample-1000/n01440764_tench.JPEG";
  ASSERT_TRUE(std::filesystem::exists(image)) << image;
  const ModelConfig config{Arch::squeezenet1_1, 10};
  WeightFile weights = Model(config, 7).to_weights("torchvision");
  make_exact(weights, "features.0");
  make_exact(weights, "features.3.squeeze");
  const std::vector<LabelledImage> images{{image, 0}, {image, 0}};
  CompressOptions options;
  for (const char* conv : {"features.0", "features.3.squeeze", "features.3.expand1x1", "features.3.expand3x3"})
    options.bits[conv] = 4;
  const WeightFile nearest = compress_weights(weights, config, options);

  const quant::InputMoments fp32 = conv_input_moments(weights, images, Preset::torchvision, 1, {});
  CompressOptions fp32_fit = options;
  fp32_fit.moments = [&](const std::string&, const WeightFile&) -> const quant::InputMoments& { return fp32; };
  SequentialMoments sequential(weights, images, Preset::torchvision, 1, {});
  std::vector<std::string> asked;
  CompressOptions sequential_fit = options;
  sequential_fit.moments = [&](const std::string& conv, const WeightFile& shared) -> const quant::InputMoments& {
    asked.push_back(conv);
    return sequential.measure(conv, shared);
  };
  const WeightFile a = compress_weights(weights, config, fp32_fit), b = compress_weights(weights, config, sequential_fit);
  EXPECT_EQ(asked, (std::vector<std::string>{"features.0", "features.3.squeeze", "features.3.expand1x1",
                                             "features.3.expand3x3"}));
  for (const std::string conv : {"features.0", "features.3.squeeze", "features.3.expand1x1", "features.3.expand3x3"}) {
    const Tensor& wa = a.tensors.at(conv + ".weight");
    EXPECT_EQ(max_abs_diff(wa, b.tensors.at(conv + ".weight")), 0.0f) << conv;
    EXPECT_EQ(a.codebooks.at(conv + ".weight"), b.codebooks.at(conv + ".weight")) << conv;
  }
  // Not vacuous: the exact layers did not move, and GPTQ coded the lossy ones apart from nearest assignment.
  EXPECT_EQ(max_abs_diff(a.tensors.at("features.0.weight"), weights.tensors.at("features.0.weight")), 0.0f);
  EXPECT_GT(max_abs_diff(a.tensors.at("features.3.expand3x3.weight"), nearest.tensors.at("features.3.expand3x3.weight")),
            0.0f);
  // With a lossy earlier conv, the later convs' fits differ.
  CompressOptions lossy = sequential_fit;
  lossy.bits["features.0"] = 2;
  const WeightFile c = compress_weights(weights, config, lossy);
  EXPECT_GT(max_abs_diff(c.tensors.at("features.3.squeeze.weight"), a.tensors.at("features.3.squeeze.weight")), 0.0f);
}

TEST(CompressCli, GptqFitRefusesBadInputInOneLine) {
  const std::string tv11 = test::data_dir() + "/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param";
  const std::string images = test::data_dir() + "/imagenet-sample-1000";
  test::TempDir dir;
  const std::string out = dir.file("x.sqz");
  auto r = test::run_cli("compress -w '" + tv11 + "' --bits 4 --gptq-fit sequential --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("--gptq-fit needs --gptq"), std::string::npos) << r.output;
  r = test::run_cli("compress -w '" + tv11 + "' --bits 4 --gptq '" + images + "' --gptq-fit bogus --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("--gptq-fit"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  r = test::run_cli("compress -w '" + tv11 + "' --bits 4 --gptq '" + images + "' --gptq-fit sequential --tune-every 500 "
                    "--out '" + out + "'");  // 2 images
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("GPTQ sequential: classifier.1, moments on 2 images"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(out));
  r = test::run_cli("compress --help");
  EXPECT_NE(r.output.find("--gptq-fit"), std::string::npos);
}

}  // namespace
}  // namespace squeezenet
