// The reference kernels against sums worked out independently here, on small odd shapes.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/reference/reference.h"
#include "random_tensor.h"

namespace squeezenet {
namespace {

using test::random_tensor;

TEST(ReferenceKernels, Conv2dMatchesDirectSum) {
  for (auto [K, stride, pad] : {std::tuple{1, 1, 0}, {3, 1, 1}, {3, 2, 0}, {7, 2, 0}, {1, 1, 1}, {3, 2, 1}}) {
    const Tensor x = random_tensor({2, 5, 9, 7}, 1), w = random_tensor({3, 5, K, K}, 2), b = random_tensor({3}, 3);
    const Tensor y = ref::conv2d(x, w, b, stride, pad);
    const int64_t OH = (9 + 2 * pad - K) / stride + 1, OW = (7 + 2 * pad - K) / stride + 1;
    ASSERT_EQ(y.shape(), (Shape{2, 3, OH, OW}));
    for (int n = 0; n < 2; ++n)
      for (int o = 0; o < 3; ++o)
        for (int oh = 0; oh < OH; ++oh)
          for (int ow = 0; ow < OW; ++ow) {
            double s = b[o];
            for (int c = 0; c < 5; ++c)
              for (int i = 0; i < K; ++i)
                for (int j = 0; j < K; ++j) {
                  const int ih = oh * stride - pad + i, iw = ow * stride - pad + j;
                  if (ih >= 0 && ih < 9 && iw >= 0 && iw < 7)
                    s += x[((n * 5 + c) * 9 + ih) * 7 + iw] * w[((o * 5 + c) * K + i) * K + j];
                }
            ASSERT_NEAR(y[((n * 3 + o) * OH + oh) * OW + ow], s, 1e-5) << K << " " << stride << " " << pad;
          }
  }
}

TEST(ReferenceKernels, MaxPoolCeilClipsTheLastWindow) {
  Tensor x({1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x[i] = static_cast<float>(i);
  const Tensor y = ref::max_pool2d_ceil(x, 3, 2);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y[0], 10.0f);  // rows 0-2, cols 0-2
  EXPECT_EQ(y[1], 11.0f);  // cols 2-3 only
  EXPECT_EQ(y[2], 14.0f);
  EXPECT_EQ(y[3], 15.0f);
}

TEST(ReferenceKernels, ConcatReluAvgPoolSoftmax) {
  const Tensor a = random_tensor({2, 3, 2, 5}, 4), b = random_tensor({2, 1, 2, 5}, 5);
  const Tensor c = ref::concat_channels(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 4, 2, 5}));
  EXPECT_EQ(c[(1 * 4 + 3) * 10 + 7], b[(1 * 1 + 0) * 10 + 7]);
  EXPECT_EQ(c[(1 * 4 + 2) * 10 + 7], a[(1 * 3 + 2) * 10 + 7]);
  Tensor r = a;
  ref::relu_(r);
  for (int64_t i = 0; i < r.numel(); ++i) EXPECT_EQ(r[i], std::max(a[i], 0.0f));
  const Tensor g = ref::global_avg_pool(a);
  ASSERT_EQ(g.shape(), (Shape{2, 3}));
  double s = 0;
  for (int i = 0; i < 10; ++i) s += a[(1 * 3 + 1) * 10 + i];
  EXPECT_NEAR(g[1 * 3 + 1], s / 10, 1e-6);
  Tensor logits({1, 3});
  logits[0] = 1000.0f;
  logits[1] = 999.0f;
  logits[2] = -5.0f;
  const Tensor p = ref::softmax(logits);
  EXPECT_NEAR(p[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-6);
}

}  // namespace
}  // namespace squeezenet
