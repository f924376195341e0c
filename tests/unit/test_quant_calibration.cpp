// What calibration does beyond picking scales: bias correction, a Fire's two expand scales folded into the weights
// of the conv reading them, and the per-layer error report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "kernels/reference/reference.h"
#include "quant/bias_correction.h"
#include "quant/epilogue.h"
#include "quant/gptq.h"
#include "quant/layer_error.h"
#include "random_tensor.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"

namespace squeezenet {
namespace {

// The mean over pixels and images of each output channel of conv(x) + bias, before the ReLU.
std::vector<double> channel_means(const Tensor& x, const Tensor& w, const std::vector<float>& bias, int stride, int pad) {
  Tensor b({static_cast<int64_t>(bias.size())}, bias.data());
  const Tensor y = ref::conv2d(x, w, b, stride, pad);
  const int64_t N = y.dim(0), O = y.dim(1), HW = y.dim(2) * y.dim(3);
  std::vector<double> m(static_cast<std::size_t>(O), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t p = 0; p < HW; ++p) m[static_cast<std::size_t>(o)] += y[(n * O + o) * HW + p] / static_cast<double>(N * HW);
  return m;
}

TEST(BiasCorrection, TheInt8WeightsGiveTheFp32MeanOutputOnTheCalibrationInputs) {
  // Odd shapes, stride 2 and padding: the border taps read fewer pixels, which the per-tap means account for.
  const int C = 5, O = 7, K = 3, stride = 2, pad = 1;
  const Tensor x = test::random_tensor({2, C, 9, 8}, 1, 0.0, 3.0);  // post-ReLU: positive, so errors do not cancel
  const Tensor w = test::random_tensor({O, C, K, K}, 2, -0.3, 0.3);
  QuantizedConv q;
  q.name = "conv";
  q.spec = {C, O, K, stride, pad};
  q.bias.assign(static_cast<std::size_t>(O), 0.25f);
  for (int o = 0; o < O; ++o) q.weight_scale.push_back(0.3f / 7.0f);  // coarse, so the shift is plain to see
  for (int64_t i = 0; i < w.numel(); ++i)
    q.weight.push_back(static_cast<int8_t>(std::nearbyint(w[i] / q.weight_scale[0])));
  Tensor wq(w.shape());
  for (int64_t i = 0; i < w.numel(); ++i) wq[i] = q.weight[static_cast<std::size_t>(i)] * q.weight_scale[0];

  quant::InputMeans means;
  for (int64_t n = 0; n < 2; ++n) means.add("conv", q.spec, Tensor({1, C, 9, 8}, x.data() + n * C * 9 * 8));
  const std::vector<double> want = channel_means(x, w, q.bias, stride, pad);
  const std::vector<double> before = channel_means(x, wq, q.bias, stride, pad);
  const std::vector<double> after = channel_means(x, wq, means.corrected_bias(q, w, {}, means), stride, pad);
  double shifted = 0.0;
  for (int o = 0; o < O; ++o) {
    shifted = std::max(shifted, std::fabs(before[o] - want[o]));
    EXPECT_NEAR(after[o], want[o], 1e-5) << o;
  }
  EXPECT_GT(shifted, 1e-3);  // there was a shift to take back
}

// The squared error of conv(x) with the int8 weights q stands for against the fp32 weights w.
double output_error(const Tensor& x, const Tensor& w, const QuantizedConv& q) {
  Tensor wq(w.shape()), zero({w.dim(0)});
  const int64_t per = w.numel() / w.dim(0);
  for (int64_t i = 0; i < w.numel(); ++i) wq[i] = q.weight[static_cast<std::size_t>(i)] * q.weight_scale[static_cast<std::size_t>(i / per)];
  const Tensor a = ref::conv2d(x, w, zero, q.spec.stride, q.spec.padding), b = ref::conv2d(x, wq, zero, q.spec.stride, q.spec.padding);
  double e = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) e += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
  return e;
}

TEST(Gptq, RoundingThatSeesTheInputsHalvesTheOutputError) {
  const int C = 6, O = 5, K = 3;
  // Correlated channels, as real maps are: each is a shared positive pattern plus its own noise.
  const Tensor base = test::random_tensor({1, 1, 11, 13}, 3, 0.0, 2.0), noise = test::random_tensor({1, C, 11, 13}, 4, 0.0, 0.5);
  Tensor x({1, C, 11, 13});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = base[i % (11 * 13)] + noise[i];
  const Tensor w = test::random_tensor({O, C, K, K}, 5, -1.0, 1.0);
  QuantizedConv nearest, seen;
  nearest.name = seen.name = "conv";
  nearest.spec = seen.spec = {C, O, K, 2, 1};
  quant::InputMoments none, moments;
  moments.add("conv", seen.spec, x, x);
  const Tensor zeros({1, C, 11, 13});
  none.add("conv", nearest.spec, zeros, zeros);  // all-zero inputs: nothing to weigh, nearest rounding
  none.quantize(w, {}, nearest);
  moments.quantize(w, {}, seen);
  const int64_t per = C * K * K;
  for (int o = 0; o < O; ++o) {
    EXPECT_EQ(seen.weight_scale[o], nearest.weight_scale[o]);  // the same grid, the channel's largest |w| at 127
    for (int64_t i = 0; i < per; ++i)
      ASSERT_EQ(nearest.weight[static_cast<std::size_t>(o * per + i)],
                std::nearbyint(w[o * per + i] / nearest.weight_scale[o]));
  }
  EXPECT_LT(output_error(x, w, seen), 0.5 * output_error(x, w, nearest));
}

TEST(ExpandScales, EachExpandHasItsOwnScaleAndTheReaderUndoesTheRatio) {
  ModelConfig config;
  config.arch = Arch::squeezenet1_1;
  config.num_classes = 11;
  const Model m(config, 3);
  const QuantizedModel q = quantize(m, synthetic_calibration_images(2, 67), Calibration::minmax);
  const Model back = dequantized_model(q);
  int differing = 0;
  for (std::size_t k = 0; k < q.convs.size(); ++k) {
    const QuantizedConv& c = q.convs[k];
    const std::vector<float> gains = quant::input_gains(q, k);
    const bool reads_fire = k >= 2 && q.convs[k - 1].name.ends_with(".expand3x3");
    ASSERT_EQ(gains.empty(), !reads_fire) << c.name;
    if (!reads_fire) continue;
    const QuantizedConv &e1 = q.convs[k - 2], &e3 = q.convs[k - 1];
    differing += e1.output_scale != e3.output_scale;
    EXPECT_EQ(c.input_scale, e3.output_scale) << c.name;
    EXPECT_FLOAT_EQ(gains.front(), c.input_scale / e1.output_scale) << c.name;
    EXPECT_FLOAT_EQ(gains.back(), 1.0f) << c.name;
    // The weights the int8 file stands for are the fp32 ones (up to rounding, which GPTQ spreads over a channel);
    // a ratio left unfolded would be off by the gain on a whole half.
    const Tensor &w = m.parameter(c.name + ".weight"), &wb = back.parameter(c.name + ".weight");
    double error = 0.0, norm = 0.0;
    for (int64_t i = 0; i < w.numel(); ++i) error += (wb[i] - w[i]) * static_cast<double>(wb[i] - w[i]), norm += w[i] * static_cast<double>(w[i]);
    EXPECT_LT(std::sqrt(error / norm), 0.02) << c.name << ", gain " << gains.front();
  }
  EXPECT_GT(differing, 0);  // calibration gave the halves different scales somewhere
}

// Fewer weight bits: every weight within 2^(b-1) - 1, which each conv's largest reaches; outside 2-8, an error.
TEST(WeightBits, SevenBitWeightsReachButDoNotPass63) {
  ModelConfig config;
  config.arch = Arch::squeezenet1_1;
  config.num_classes = 11;
  const Model m(config, 3);
  const std::vector<Tensor> images = synthetic_calibration_images(2, 67);
  const QuantizedModel q = quantize(m, images, Calibration::minmax, {}, Fitting::independent, 7);
  for (const QuantizedConv& c : q.convs) {
    int top = 0;
    for (const int8_t w : c.weight) top = std::max(top, std::abs(int{w}));
    EXPECT_EQ(top, 63) << c.name;
  }
  EXPECT_THROW(quantize(m, images, Calibration::minmax, {}, Fitting::independent, 9), Error);
  EXPECT_THROW(quantize(m, images, Calibration::minmax, {}, Fitting::independent, 1), Error);
}

TEST(LayerErrors, ReportTheSameLogitErrorAsTheTwoForwards) {
  ModelConfig config;
  config.num_classes = 13;
  const Model m(config, 4);
  const std::vector<Tensor> images = synthetic_calibration_images(2, 67);
  const QuantizedModel q = quantize(m, images, Calibration::minmax);
  const quant::ErrorReport r = quant::layer_errors(m, q, images);
  double signal = 0.0, noise = 0.0;
  int same = 0;
  for (const Tensor& image : images) {
    const Tensor a = m.forward(image), b = forward_int8_reference(q, image);
    for (int64_t i = 0; i < a.numel(); ++i) signal += a[i] * static_cast<double>(a[i]), noise += (b[i] - a[i]) * static_cast<double>(b[i] - a[i]);
    same += std::max_element(a.data(), a.data() + a.numel()) - a.data() ==
            std::max_element(b.data(), b.data() + b.numel()) - b.data();
  }
  ASSERT_EQ(r.layers.front().name, "input");
  ASSERT_EQ(r.layers.back().name, "logits");
  EXPECT_EQ(r.layers.size(), 2u + 1u + 3u * 8u);  // input, stem, 8 Fires of three convs, logits
  EXPECT_NEAR(r.layers.back().sqnr_db, 10.0 * std::log10(signal / noise), 0.05);
  EXPECT_EQ(r.images, 2);
  EXPECT_EQ(r.same_top1, same);
  // The image's only error is its rounding to the grid; minmax on the very images measured clips nothing.
  EXPECT_NEAR(r.layers.front().sqnr_db, r.layers.front().grid_db, 0.01);
  for (const quant::LayerError& l : r.layers) EXPECT_EQ(l.clipped, 0.0) << l.name;
}

}  // namespace
}  // namespace squeezenet
