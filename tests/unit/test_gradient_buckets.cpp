// The sum over the ranks in buckets (train/gradient_buckets.h), on a real backward: buckets start in the order
// backward finishes the layers, while it still runs, and the sums come back where they belong, the same as
// one sum after backward. Two ranks are played by one process whose partner holds the same gradients.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "random_tensor.h"
#include "squeezenet/train.h"
#include "train/gradient_buckets.h"

namespace squeezenet {
namespace {

// Rank 0 of 2 whose partner sends what it has: a sum doubles every element, when wait_sums() (or sum()) says
// it is done. Records what was started and whether backward went on meanwhile.
class Mirror final : public train::Communicator {
 public:
  explicit Mirror(bool background) : background_(background) {}
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void sum(float* data, std::size_t n) override {
    ++blocking;
    std::for_each(data, data + n, [](float& v) { v *= 2.0f; });
  }
  void sum(double* data, std::size_t n) override { std::for_each(data, data + n, [](double& v) { v *= 2.0; }); }
  bool sums_in_background() const override { return background_; }
  void start_sum(float* data, std::size_t n) override { started.push_back({data, n}); }
  void progress() override { progress_while_pending += started.size() > done_; }
  void wait_sums() override {
    for (; done_ < started.size(); ++done_) sum(started[done_].first, started[done_].second);
  }

  std::vector<std::pair<float*, std::size_t>> started;
  int progress_while_pending = 0, blocking = 0;

 private:
  bool background_;
  std::size_t done_ = 0;
};

struct Step {
  Gradients grads;
  bool stop;
};

Step step(const Model& model, train::Communicator& ranks, std::size_t bucket_bytes, bool vote, std::size_t* buckets) {
  const Tensor x = test::random_tensor({2, 3, 47, 53}, 31), dlogits = test::random_tensor({2, 5}, 32);
  Backprop bp(model);
  bp.forward(x, true, 7);
  Gradients grads = zero_gradients(model);
  train::GradientBuckets sums(model, grads, ranks, bucket_bytes);
  *buckets = sums.buckets();
  sums.begin(grads, vote);
  {
    const train::ListenToBackward listen(sums);
    bp.backward(dlogits, grads);
  }
  const bool stop = sums.finish();
  return {std::move(grads), stop};
}

TEST(GradientBuckets, StartDuringBackwardAndSumLikeOneMessage) {
  const Model model(ModelConfig{Arch::squeezenet1_1, 5, 0.5f}, 30);
  Mirror one(false), bucketed(true);
  std::size_t one_buckets = 0, buckets = 0;
  const Step whole = step(model, one, 0, false, &one_buckets);
  const Step parts = step(model, bucketed, 40'000, true, &buckets);
  EXPECT_EQ(one_buckets, 1u);
  EXPECT_EQ(one.blocking, 1);
  EXPECT_TRUE(one.started.empty());
  EXPECT_FALSE(whole.stop);
  EXPECT_TRUE(parts.stop);  // the vote went with the last bucket

  // Buckets were started while backward went on (it asked for progress with one pending), one after another
  // in the buffer.
  ASSERT_EQ(bucketed.started.size(), buckets);
  EXPECT_GE(buckets, 8u);
  EXPECT_GT(bucketed.progress_while_pending, 0);
  for (std::size_t i = 1; i < buckets; ++i)
    EXPECT_EQ(bucketed.started[i].first, bucketed.started[i - 1].first + bucketed.started[i - 1].second);
  // And the sums are in place: twice this rank's gradient, bit for bit what one message gives.
  for (const auto& [name, g] : whole.grads) {
    const Tensor& b = parts.grads.at(name);
    ASSERT_EQ(b.numel(), g.numel()) << name;
    EXPECT_TRUE(std::equal(g.data(), g.data() + g.numel(), b.data())) << name;
  }
  float largest = 0.0f;
  for (const auto& [name, g] : whole.grads)
    for (int64_t i = 0; i < g.numel(); ++i) largest = std::max(largest, std::abs(g[i]));
  EXPECT_GT(largest, 0.0f);  // equal zeros would prove nothing
}

}  // namespace
}  // namespace squeezenet
