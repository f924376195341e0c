// The pairwise tree that makes a step's gradient independent of how its images were split into ranks and
// micro-batches: the tree itself against a recursive definition, streamed blocks against one sum, and the
// training forward and backward of one image, bit for bit the same whatever the batch it sits in.
#include <gtest/gtest.h>
#include <omp.h>

#include <vector>

#include "random_tensor.h"
#include "squeezenet/train.h"
#include "train/fast_features.h"
#include "train/pairwise_sum.h"

namespace squeezenet {
namespace {

// The aligned pairwise tree over terms[begin, end), begin a multiple of the power of two `span` >= end - begin.
float tree(const std::vector<float>& terms, std::size_t begin, std::size_t span) {
  if (begin >= terms.size()) return 0.0f;
  if (span == 1) return terms[begin];
  if (begin + span / 2 >= terms.size()) return tree(terms, begin, span / 2);
  return tree(terms, begin, span / 2) + tree(terms, begin + span / 2, span / 2);
}

// Terms of mixed sizes, so that every grouping rounds differently.
std::vector<float> terms(std::size_t n, uint64_t seed) {
  const Tensor t = test::random_tensor({static_cast<int64_t>(n)}, seed);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = t[static_cast<int64_t>(i)] * static_cast<float>(1 << (i % 5 * 6));
  return v;
}

TEST(PairwiseSum, IsTheAlignedTreeForEveryCount) {
  for (std::size_t n = 1; n <= 19; ++n) {
    std::vector<float> v = terms(n, n);
    std::size_t span = 1;
    while (span < n) span *= 2;
    const float want = tree(v, 0, span);
    std::vector<float*> parts;
    for (float& x : v) parts.push_back(&x);
    train::pairwise_sum(parts, 0, 1);
    EXPECT_EQ(v[0], want) << n << " terms";
  }
}

TEST(PairwiseSum, StreamedBlocksEqualTheWholeTree) {
  for (std::size_t blocks = 1; blocks <= 11; ++blocks) {
    const std::vector<float> v = terms(blocks, 100 + blocks);
    std::size_t span = 1;
    while (span < blocks) span *= 2;
    train::PairwiseGradients stream(Gradients{{"g", Tensor({1})}});
    for (int round = 0; round < 2; ++round) {  // buffers reused after clear()
      for (float x : v) {
        stream.block().at("g")[0] = x;
        stream.push();
      }
      EXPECT_EQ(stream.sum().at("g")[0], tree(v, 0, span)) << blocks << " blocks, round " << round;
      stream.clear();
    }
  }
}

struct Pass {
  Tensor logits;
  Gradients grads;
};

// A training pass over images [first, first + count) of `x`, each with its own dropout mask.
Pass pass(const Model& model, const Tensor& x, const Tensor& dlogits, int64_t first, int64_t count) {
  const int64_t image = x.numel() / x.dim(0), classes = dlogits.dim(1);
  Tensor xs({count, x.dim(1), x.dim(2), x.dim(3)}), dys({count, classes});
  std::copy_n(x.data() + first * image, count * image, xs.data());
  std::copy_n(dlogits.data() + first * classes, count * classes, dys.data());
  std::vector<uint64_t> samples;
  for (int64_t n = first; n < first + count; ++n) samples.push_back(static_cast<uint64_t>(n));
  Backprop bp(model);
  Pass p{bp.forward(xs, true, 21, samples), zero_gradients(model)};
  bp.backward(dys, p.grads);
  return p;
}

// What 2 ranks x 4 images (or 4 images with --iter-size 2) take a step with is what a batch of 8 does: every
// image's logits, and the gradient as the sum of the halves'. 1 and 2 threads, and the article's variant with
// a Dropout at the end of `features`.
TEST(PairwiseSum, ABatchOfEightIsTwoBatchesOfFourBitForBit) {
  for (float features_dropout : {0.0f, 0.3f}) {
    ModelConfig config{Arch::squeezenet1_1, 3, 0.5f};
    config.features_dropout = features_dropout;
    const Model model(config, 22);
    if (!train::fast_features_available(model)) GTEST_SKIP() << "no AVX2+FMA: the reference backward sums by batch";
    const Tensor x = test::random_tensor({8, 3, 47, 53}, 23), dlogits = test::random_tensor({8, 3}, 24);
    const int threads = omp_get_max_threads();
    for (int t : {1, 2}) {
      omp_set_num_threads(t);
      const Pass whole = pass(model, x, dlogits, 0, 8), low = pass(model, x, dlogits, 0, 4),
                 high = pass(model, x, dlogits, 4, 4);
      for (int64_t i = 0; i < 4 * 3; ++i) {
        EXPECT_EQ(whole.logits[i], low.logits[i]) << t << " threads";
        EXPECT_EQ(whole.logits[12 + i], high.logits[i]) << t << " threads";
      }
      for (const auto& [name, g] : whole.grads) {
        const Tensor &a = low.grads.at(name), &b = high.grads.at(name);
        int64_t differ = 0;
        for (int64_t i = 0; i < g.numel(); ++i) differ += g[i] != a[i] + b[i];
        EXPECT_EQ(differ, 0) << name << ", " << t << " threads, features dropout " << features_dropout;
      }
    }
    omp_set_num_threads(threads);
  }
}

}  // namespace
}  // namespace squeezenet
