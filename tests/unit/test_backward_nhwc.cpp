// The NHWC fast lane of the training backward against the plain NCHW reference: its memory-bound steps on odd
// channel counts and maps, and whole networks on batches of 1 and 5 at odd, non-square sizes, every parameter
// gradient compared. Also: the fast lane's results do not depend on the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>

#include "kernels/dispatch.h"
#include "random_tensor.h"
#include "squeezenet/train.h"
#include "train/fast_features.h"
#include "train/grad_kernels_isa.h"
#include "train/nhwc_ops.h"
#include "train/reference_backward.h"

namespace squeezenet {
namespace {

Tensor to_nhwc(const Tensor& x) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor y({N, H, W, C});
  for (int64_t n = 0; n < N; ++n)
    train::nchw_to_nhwc(x.data() + n * C * H * W, static_cast<int>(C), static_cast<int>(H), static_cast<int>(W),
                        y.data() + n * C * H * W);
  return y;
}

float relative_diff(const Tensor& got, const Tensor& want) {
  float scale = 1e-20f;
  for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(want[i]));
  return max_abs_diff(got, want) / scale;
}

using MaxPoolBackward = void (*)(const float*, int, int, int, const float*, float*);

TEST(NhwcBackward, MaxPoolMatchesTheReferenceWithTiesAndNaN) {
  std::vector<std::pair<const char*, MaxPoolBackward>> isas{{"dispatched", train::max_pool_backward}};
  if (kernels::has_avx2_fma()) isas.emplace_back("avx2", train::avx2::max_pool_backward);
  if (kernels::has_avx512()) isas.emplace_back("avx512", train::avx512::max_pool_backward);
  struct Case {
    int c, h, w;
  };
  for (const Case& s : {Case{1, 3, 3}, Case{5, 4, 7}, Case{19, 8, 5}, Case{70, 13, 13}, Case{130, 6, 9}}) {
    Tensor x = test::random_tensor({1, s.c, s.h, s.w}, 1);
    for (int64_t i = 0; i < x.numel(); i += 3) x[i] = 0.0f;  // ties, as after a ReLU
    x[x.numel() / 2] = std::numeric_limits<float>::quiet_NaN();
    const Tensor dy = test::random_tensor({1, s.c, pool_output_size(s.h, 3, 2), pool_output_size(s.w, 3, 2)}, 2);
    const Tensor want = to_nhwc(ref::max_pool2d_ceil_backward(x, dy, 3, 2));
    const Tensor xn = to_nhwc(x), dyn = to_nhwc(dy);
    for (const auto& [name, fn] : isas) {
      Tensor got(want.shape(), 0.0f);
      fn(xn.data(), s.h, s.w, s.c, dyn.data(), got.data());
      EXPECT_LE(max_abs_diff(got, want), 1e-6f) << name << " c " << s.c << " " << s.h << "x" << s.w;
    }
  }
}

TEST(NhwcBackward, ReluAndChannelSumsOnStridedMaps) {
  const int h = 3, w = 5, n = 21, pixel = 24, row = w * pixel + 7;
  const Tensor y = test::random_tensor({h * row}, 3), dy = test::random_tensor({h * row}, 4);
  Tensor dx({h * row}, 9.0f);
  train::relu_backward(h, w, {y.data(), row, pixel}, {dy.data(), row, pixel}, {dx.data(), row, pixel}, n);
  std::vector<float> sums(n);
  train::channel_sums(h, w, {dy.data(), row, pixel}, n, sums.data());
  for (int r = 0; r < h; ++r)
    for (int q = 0; q < w; ++q)
      for (int j = 0; j < pixel; ++j) {
        const int64_t i = r * row + q * pixel + j;
        EXPECT_EQ(dx[i], j < n ? (y[i] > 0.0f ? dy[i] : 0.0f) : 9.0f);
      }
  for (int j = 0; j < n; ++j) {
    double want = 0.0;
    for (int r = 0; r < h; ++r)
      for (int q = 0; q < w; ++q) want += dy[r * row + q * pixel + j];
    EXPECT_NEAR(sums[static_cast<std::size_t>(j)], want, 1e-5);
  }
}

struct Pass {
  Tensor logits, input_grad;
  Gradients grads;
};

Pass run(const Model& model, const Tensor& x, bool reference) {
  Backprop bp(model, false, reference);
  Pass p{bp.forward(x, true, 7), {}, zero_gradients(model)};
  const Tensor dlogits = test::random_tensor(p.logits.shape(), 8);
  p.input_grad = bp.backward(dlogits, p.grads, true);
  return p;
}

TEST(NhwcBackward, WholeNetworksMatchTheReferenceOnOddBatchesAndSizes) {
  struct Case {
    int n, h, w;
  };
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    Model model(ModelConfig{arch, 3, 0.5f}, 9);
    if (!train::fast_features_available(model)) GTEST_SKIP() << "no AVX2+FMA";
    for (const std::string& name : model.parameter_names())
      if (name.ends_with("bias"))
        model.parameter(name) = test::random_tensor(model.parameter(name).shape(), 10, 0.0, 0.1);
    for (const Case& s : {Case{5, 37, 43}, Case{1, 29, 31}}) {
      const Tensor x = test::random_tensor({s.n, 3, s.h, s.w}, 11);
      const Pass fast = run(model, x, false), ref = run(model, x, true);
      const std::string where =
          arch_name(arch) + " " + std::to_string(s.n) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
      EXPECT_LE(relative_diff(fast.logits, ref.logits), 1e-5f) << where;
      EXPECT_LE(relative_diff(fast.input_grad, ref.input_grad), 1e-4f) << where;
      for (const auto& [name, g] : ref.grads)
        EXPECT_LE(relative_diff(fast.grads.at(name), g), 1e-4f) << where << " " << name;
    }
  }
}

TEST(NhwcBackward, ResultsDoNotDependOnTheThreadCount) {
  const Model model(ModelConfig{Arch::squeezenet1_1, 2, 0.5f}, 12);
  if (!train::fast_features_available(model)) GTEST_SKIP() << "no AVX2+FMA";
  const Tensor x = test::random_tensor({3, 3, 41, 45}, 13);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Pass one = run(model, x, false);
  omp_set_num_threads(3);
  const Pass three = run(model, x, false);
  omp_set_num_threads(threads);
  EXPECT_EQ(max_abs_diff(one.logits, three.logits), 0.0f);
  EXPECT_EQ(max_abs_diff(one.input_grad, three.input_grad), 0.0f);
  for (const auto& [name, g] : one.grads) EXPECT_EQ(max_abs_diff(three.grads.at(name), g), 0.0f) << name;
}

}  // namespace
}  // namespace squeezenet
