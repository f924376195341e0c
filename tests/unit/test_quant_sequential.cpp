// Sequential calibration: each conv fitted to the inputs the quantized network gives it (rounded, clipped), against
// the fp32 network's output on the fp32 inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "kernels/reference/reference.h"
#include "quant/bias_correction.h"
#include "quant/gptq.h"
#include "quant/layer_error.h"
#include "random_tensor.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"

namespace squeezenet {
namespace {

constexpr int C = 6, O = 5, K = 3, kStride = 2, kPad = 1, N = 4, H = 23, W = 25;

// Post-ReLU-like inputs with correlated channels, and what a quantized network gives instead: rounded to a coarse
// grid and clipped at 2.5, so its mean is off as well as its values.
struct Inputs {
  Tensor x = Tensor({N, C, H, W}), x_q = Tensor({N, C, H, W});
  Inputs() {
    const Tensor base = test::random_tensor({N, 1, H, W}, 3, 0.0, 2.0), noise = test::random_tensor({N, C, H, W}, 4, 0.0, 1.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      x[i] = base[i / (C * H * W) * H * W + i % (H * W)] + noise[i];
      x_q[i] = std::min(std::nearbyint(x[i] / 0.3f) * 0.3f, 2.5f);
    }
  }
};

Tensor int8_weights(const QuantizedConv& q) {
  Tensor w({O, C, K, K});
  const int64_t per = C * K * K;
  for (int64_t i = 0; i < w.numel(); ++i) w[i] = q.weight[static_cast<std::size_t>(i)] * q.weight_scale[static_cast<std::size_t>(i / per)];
  return w;
}

// The squared error of the int8 conv q on x_q against the fp32 conv w on x, biases included.
double output_error(const Inputs& in, const Tensor& w, const Tensor& bias, const QuantizedConv& q) {
  const Tensor qb({O}, q.bias.data());
  const Tensor a = ref::conv2d(in.x, w, bias, kStride, kPad), b = ref::conv2d(in.x_q, int8_weights(q), qb, kStride, kPad);
  double e = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) e += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
  return e;
}

// Fitted as sequential calibration does (x_q apart from x), or independently, to the fp32 inputs alone.
QuantizedConv fitted(const Inputs& in, const Tensor& w, const Tensor& bias, bool sequential) {
  QuantizedConv q;
  q.name = "conv";
  q.spec = {C, O, K, kStride, kPad};
  q.bias.assign(bias.data(), bias.data() + O);
  quant::InputMoments moments;
  quant::InputMeans fp32, quantized;
  const Tensor& x_q = sequential ? in.x_q : in.x;
  moments.add("conv", q.spec, in.x, x_q);
  fp32.add("conv", q.spec, in.x);
  quantized.add("conv", q.spec, x_q);
  moments.quantize(w, {}, q);
  q.bias = fp32.corrected_bias(q, w, {}, quantized);
  return q;
}

TEST(SequentialFit, TheBiasTakesBackTheMeanShiftOfTheQuantizedInputs) {
  const Inputs in;
  const Tensor w = test::random_tensor({O, C, K, K}, 5, -0.5, 0.5), bias = test::random_tensor({O}, 6, -0.2, 0.2);
  const QuantizedConv q = fitted(in, w, bias, true);
  const Tensor qb({O}, q.bias.data()), a = ref::conv2d(in.x, w, bias, kStride, kPad);
  const Tensor b = ref::conv2d(in.x_q, int8_weights(q), qb, kStride, kPad);
  const int64_t HW = a.dim(2) * a.dim(3);
  for (int64_t o = 0; o < O; ++o) {
    double ma = 0.0, mb = 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t p = 0; p < HW; ++p) ma += a[(n * O + o) * HW + p], mb += b[(n * O + o) * HW + p];
    EXPECT_NEAR(mb / (N * HW), ma / (N * HW), 1e-4) << o;
  }
}

TEST(SequentialFit, FittingToTheQuantizedInputsBeatsFittingToTheFp32Ones) {
  const Inputs in;
  const Tensor w = test::random_tensor({O, C, K, K}, 5, -0.5, 0.5), bias = test::random_tensor({O}, 6, -0.2, 0.2);
  // Fitted to the fp32 inputs, the conv keeps the clipping's and rounding's error of the inputs it is run on (the
  // fit is damped strongly towards w, so the gain is a few per cent).
  const double independent = output_error(in, w, bias, fitted(in, w, bias, false));
  const double sequential = output_error(in, w, bias, fitted(in, w, bias, true));
  EXPECT_LT(sequential, 0.98 * independent) << independent;
}

TEST(SequentialFit, IsTheDefaultAndBringsTheInt8NetworkNearerFp32OnItsCalibrationImages) {
  ModelConfig config;
  config.arch = Arch::squeezenet1_1;
  config.num_classes = 17;
  const Model m(config, 7);
  const std::vector<Tensor> images = synthetic_calibration_images(3, 67);
  const QuantizedModel independent = quantize(m, images, Calibration::mse, {}, Fitting::independent);
  const QuantizedModel sequential = quantize(m, images, Calibration::mse);
  const double a = quant::layer_errors(m, independent, images).layers.back().sqnr_db;
  const double b = quant::layer_errors(m, sequential, images).layers.back().sqnr_db;
  EXPECT_GT(b, a + 0.5) << "logits SQNR, independent " << a << " dB, sequential " << b << " dB";
}

TEST(SequentialFit, NamesParseBack) {
  for (Fitting f : {Fitting::sequential, Fitting::independent}) EXPECT_EQ(parse_fitting(fitting_name(f)), f);
  EXPECT_THROW(parse_fitting("greedy"), Error);
}

}  // namespace
}  // namespace squeezenet
