// Every layer's backward against finite differences of its forward, on small odd shapes; the fast (GEMM)
// convolution against the reference one; the frozen-features fast forward against the reference forward.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "kernels/reference/reference.h"
#include "model/forward_reference.h"
#include "squeezenet/error.h"
#include "squeezenet/train.h"
#include "train/conv_gemm.h"
#include "train/fast_features.h"
#include "train/gemm.h"
#include "train/reference_backward.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Rng rng(seed);
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(rng.uniform(lo, hi));
  return t;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// d<f(x), w>/dx by central differences at a few coordinates, compared with `analytic`. f is evaluated in
// float, so the step is large and the tolerance relative to the gradient's scale.
void check_gradient(Tensor x, const Tensor& analytic, const std::function<Tensor(const Tensor&)>& f,
                    const Tensor& w, const char* what, float h = 1e-2f, double tolerance = 2e-3) {
  float scale = 1e-3f;
  for (int64_t i = 0; i < analytic.numel(); ++i) scale = std::max(scale, std::fabs(analytic[i]));
  const int64_t stride = std::max<int64_t>(1, x.numel() / 40);
  for (int64_t i = 0; i < x.numel(); i += stride) {
    const float keep = x[i];
    x[i] = keep + h;
    const double up = dot(f(x), w);
    x[i] = keep - h;
    const double down = dot(f(x), w);
    x[i] = keep;
    EXPECT_NEAR((up - down) / (2 * h), analytic[i], tolerance * scale) << what << " at " << i;
  }
}

TEST(Backward, ConvMatchesFiniteDifferencesOnOddShapes) {
  struct Case {
    int n, c, h, w, o, k, stride, pad;
  };
  for (const Case& s : {Case{2, 3, 7, 5, 4, 3, 2, 0}, Case{1, 5, 6, 9, 3, 3, 1, 1}, Case{2, 4, 5, 5, 7, 1, 1, 0},
                        Case{1, 3, 11, 8, 5, 7, 2, 0}, Case{1, 6, 3, 4, 2, 1, 1, 1}}) {
    const Tensor x = random_tensor({s.n, s.c, s.h, s.w}, 1);
    const Tensor wt = random_tensor({s.o, s.c, s.k, s.k}, 2), b = random_tensor({s.o}, 3);
    const Tensor y = ref::conv2d(x, wt, b, s.stride, s.pad);
    const Tensor dy = random_tensor(y.shape(), 4);
    const ref::ConvGrads g = ref::conv2d_backward(x, wt, dy, s.stride, s.pad, true);
    check_gradient(x, g.input, [&](const Tensor& v) { return ref::conv2d(v, wt, b, s.stride, s.pad); }, dy, "dx");
    check_gradient(wt, g.weight, [&](const Tensor& v) { return ref::conv2d(x, v, b, s.stride, s.pad); }, dy, "dw");
    check_gradient(b, g.bias, [&](const Tensor& v) { return ref::conv2d(x, wt, v, s.stride, s.pad); }, dy, "db");

    // The GEMM path: the same gradients, added into what is already there.
    Tensor dw(wt.shape(), 1.0f), db(b.shape(), 1.0f);
    const Tensor dx = train::conv2d_backward(x, wt, dy, s.stride, s.pad, dw, db, true);
    EXPECT_LE(max_abs_diff(train::conv2d_forward(x, wt, b, s.stride, s.pad), y), 1e-5f);
    EXPECT_LE(max_abs_diff(dx, g.input), 1e-4f);
    for (int64_t i = 0; i < dw.numel(); ++i) EXPECT_NEAR(dw[i], g.weight[i] + 1.0f, 1e-4f);
    for (int64_t i = 0; i < db.numel(); ++i) EXPECT_NEAR(db[i], g.bias[i] + 1.0f, 1e-4f);
  }
}

TEST(Backward, ReluMaxPoolAvgPoolMatchFiniteDifferences) {
  // Values kept away from the kinks (0 for ReLU, ties for max-pool) so that differences are smooth.
  Tensor x = random_tensor({2, 3, 7, 8}, 5, 0.1, 1.0);
  for (int64_t i = 0; i < x.numel(); i += 2) x[i] = -x[i];
  const auto relu = [](const Tensor& v) {
    Tensor r = v;
    ref::relu_(r);
    return r;
  };
  const Tensor dy = random_tensor(x.shape(), 6);
  check_gradient(x, ref::relu_backward(relu(x), dy), relu, dy, "relu");

  // 8 -> 4 windows with ceil mode, the last hanging over; distinct values 0.05 apart, so no step makes a tie.
  Tensor px({2, 3, 8, 7});
  Rng rng(7);
  for (int64_t i = 0; i < px.numel(); ++i) px[i] = 0.05f * static_cast<float>(i);
  for (int64_t i = px.numel() - 1; i > 0; --i) std::swap(px[i], px[static_cast<int64_t>(rng.next() % (i + 1))]);
  const Tensor pdy = random_tensor(ref::max_pool2d_ceil(px, 3, 2).shape(), 8);
  check_gradient(px, ref::max_pool2d_ceil_backward(px, pdy, 3, 2),
                 [](const Tensor& v) { return ref::max_pool2d_ceil(v, 3, 2); }, pdy, "maxpool");

  const Tensor gx = random_tensor({2, 5, 3, 4}, 9), gdy = random_tensor({2, 5}, 10);
  check_gradient(gx, ref::global_avg_pool_backward(gx.shape(), gdy), ref::global_avg_pool, gdy, "avgpool");
}

TEST(Backward, MaxPoolTiesGoToTheFirstMaximumAsInPyTorch) {
  const Tensor x({1, 1, 3, 3}, 0.0f);  // a window of zeros, as after a ReLU
  const Tensor dy({1, 1, 1, 1}, 1.0f);
  const Tensor dx = ref::max_pool2d_ceil_backward(x, dy, 3, 2);
  EXPECT_EQ(dx[0], 1.0f);
  for (int64_t i = 1; i < 9; ++i) EXPECT_EQ(dx[i], 0.0f);
}

TEST(Backward, CrossEntropyWithLabelSmoothingMatchesFiniteDifferences) {
  const Tensor z = random_tensor({3, 5}, 11, -3.0, 3.0);
  const std::vector<int> labels{4, 0, 2};
  for (float eps : {0.0f, 0.1f}) {
    const LossResult r = cross_entropy(z, labels, eps);
    Tensor zz = z;
    for (int64_t i = 0; i < z.numel(); ++i) {
      const float keep = zz[i];
      zz[i] = keep + 1e-3f;
      const double up = cross_entropy(zz, labels, eps).loss;
      zz[i] = keep - 1e-3f;
      const double down = cross_entropy(zz, labels, eps).loss;
      zz[i] = keep;
      EXPECT_NEAR((up - down) / 2e-3, r.grad[i], 1e-4);
    }
  }
  EXPECT_THROW(cross_entropy(z, {4, 0, 5}), Error);
  EXPECT_THROW(cross_entropy(z, {4, 0}), Error);
}

TEST(Backward, WholeNetworkInputGradientAgreesBetweenKernelPaths) {
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    Model model(ModelConfig{arch, 3, 0.0f}, 12);
    for (const std::string& name : model.parameter_names())
      if (name.ends_with("bias")) model.parameter(name) = random_tensor(model.parameter(name).shape(), 13, 0.0, 0.1);
    const Tensor x = random_tensor({1, 3, 35, 39}, 14);
    const Tensor w = random_tensor({1, 3}, 15);
    // Finite differences through the whole network cross ReLU kinks at every step size float allows, so the
    // layers are checked one by one above and the whole against PyTorch in the parity test; here the two
    // kernel paths must agree on the input gradient, which only a gradient check asks for.
    Tensor dx[2];
    for (bool reference : {false, true}) {
      Backprop bp(model, false, reference);
      const Tensor logits = bp.forward(x, true);
      EXPECT_LE(max_abs_diff(logits, forward_reference(model, x)), 1e-5f);
      Gradients grads = zero_gradients(model);
      dx[reference] = bp.backward(w, grads, true);
    }
    EXPECT_EQ(dx[0].shape(), x.shape());
    EXPECT_LE(max_abs_diff(dx[0], dx[1]), 1e-6f);
  }
}

TEST(Backward, DropoutScalesKeptUnitsAndRoutesGradientThroughThem) {
  Model model(ModelConfig{Arch::squeezenet1_1, 2, 0.5f}, 16);
  const Tensor x = random_tensor({2, 3, 40, 40}, 17);
  Backprop bp(model);
  const Tensor a = bp.forward(x, true, 1), b = bp.forward(x, true, 1), c = bp.forward(x, true, 2);
  EXPECT_EQ(max_abs_diff(a, b), 0.0f);  // the same seed, the same mask
  EXPECT_GT(max_abs_diff(a, c), 0.0f);
  EXPECT_LE(max_abs_diff(bp.forward(x, false), forward_reference(model, x)), 1e-5f);
}

TEST(Backward, DropoutMaskOfASampleDoesNotDependOnItsBatch) {
  // Both dropouts (the article's at the end of features, and the classifier's): sample 11 alone and as the
  // second of a batch get the same masks, so the same logits and the same gradient.
  ModelConfig config{Arch::squeezenet1_1, 2, 0.5f};
  config.features_dropout = 0.3f;
  const Model model(config, 16);
  const Tensor pair = random_tensor({2, 3, 40, 40}, 17);
  Tensor second({1, 3, 40, 40});
  std::copy_n(pair.data() + second.numel(), second.numel(), second.data());
  for (bool reference : {false, true}) {
    Backprop bp(model, false, reference);
    const uint64_t ids[] = {10, 11};
    const Tensor both = bp.forward(pair, true, 3, ids);
    Tensor row({1, 2});
    std::copy_n(both.data() + 2, 2, row.data());
    const Tensor alone = bp.forward(second, true, 3, std::span(ids + 1, 1));
    EXPECT_LE(max_abs_diff(alone, row), 1e-6f) << "reference " << reference;
    EXPECT_GT(max_abs_diff(bp.forward(second, true, 3, std::span(ids, 1)), alone), 0.0f);  // another sample
  }
}

TEST(Backward, FeaturesDropoutAgreesBetweenKernelPaths) {
  ModelConfig config{Arch::squeezenet1_0, 3, 0.5f};
  config.features_dropout = 0.5f;
  const Model model(config, 12);
  EXPECT_EQ(model.layers()[13].kind, Layer::Kind::Dropout);
  EXPECT_EQ(model.layers()[13].name, "features.13");
  const Tensor x = random_tensor({2, 3, 45, 41}, 14), w = random_tensor({2, 3}, 15);
  Gradients grads[2] = {zero_gradients(model), zero_gradients(model)};
  Tensor logits[2];
  for (bool reference : {false, true}) {
    Backprop bp(model, false, reference);
    logits[reference] = bp.forward(x, true, 9);
    bp.backward(w, grads[reference]);
  }
  EXPECT_LE(max_abs_diff(logits[0], logits[1]), 1e-5f);
  for (const auto& [name, g] : grads[1]) EXPECT_LE(max_abs_diff(grads[0].at(name), g), 1e-4f) << name;
  // Eval mode: the identity, as the inference engine has it.
  Backprop bp(model);
  EXPECT_LE(max_abs_diff(bp.forward(x, false), forward_reference(model, x)), 1e-5f);
}

TEST(Backward, GemmHandlesTransposesAndEdges) {
  for (auto [m, n, k] : {std::tuple{1, 1, 1}, {7, 17, 5}, {13, 33, 300}, {80, 270, 9}}) {
    const Tensor a = random_tensor({m, k}, 18), at = random_tensor({k, m}, 19);
    const Tensor b = random_tensor({k, n}, 20), bt = random_tensor({n, k}, 21);
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        const train::MatrixView va{ta ? at.data() : a.data(), ta ? m : k, ta};
        const train::MatrixView vb{tb ? bt.data() : b.data(), tb ? k : n, tb};
        Tensor c({m, n}, 0.5f);
        train::sgemm(m, n, k, va, vb, c.data(), n, true);
        for (int i = 0; i < m; ++i)
          for (int j = 0; j < n; ++j) {
            double want = 0.5;
            for (int q = 0; q < k; ++q) want += static_cast<double>(va.at(i, q)) * vb.at(q, j);
            ASSERT_NEAR(c[i * n + j], want, 1e-4 * std::sqrt(k)) << m << "x" << n << "x" << k;
          }
      }
  }
}

TEST(Backward, FastFeaturesMatchTheReferenceForward) {
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    const Model model(ModelConfig{arch, 4, 0.5f}, 22);
    if (!train::fast_features_available(model)) GTEST_SKIP() << "no AVX2+FMA";
    const Tensor x = random_tensor({3, 3, 51, 47}, 23);
    EXPECT_LE(max_abs_diff(train::fast_features(model, x), features_reference(model, x)), 1e-4f);
  }
}

}  // namespace
}  // namespace squeezenet
