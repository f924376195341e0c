// Several threads at once, as a server or a training run has them: engines sharing one Model (one engine per
// thread, as engine.h documents), each with its own thread team, while a data loader decodes on its workers.
// Every result must be bit-identical to the same work done alone on one thread. The TSan build runs these
// tests (scripts/sanitize.sh): engines, thread teams and the loader use std::thread only, so no OpenMP runs here.
#include <gtest/gtest.h>

#include <thread>

#include "random_tensor.h"
#include "squeezenet/dataset.h"
#include "squeezenet/engine.h"
#include "squeezenet/visualize.h"
#include "temp_dir.h"
#include "train/loader.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

constexpr int kThreads = 4;

// Each thread's inputs differ in shape, so that each engine also builds plans of its own.
Tensor input_of(int thread, int step) {
  return test::random_tensor({1 + thread % 2, 3, 40 + 8 * thread, 48 + 4 * step}, 100 * thread + step, -2, 2);
}

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.numel(), b.data());
}

TEST(Concurrency, EnginesSharingOneModelAnswerAsOneThreadAlone) {
  const Model model(ModelConfig{Arch::squeezenet1_1, 10, 0.5f}, 3);
  constexpr int kSteps = 3;
  std::vector<std::vector<Tensor>> want(kThreads), got(kThreads);
  Engine alone(model, 1);
  for (int t = 0; t < kThreads; ++t)
    for (int s = 0; s < kSteps; ++s) want[t].push_back(alone.forward(input_of(t, s)));

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      Engine engine(model, 2);
      for (int s = 0; s < kSteps; ++s) got[t].push_back(engine.forward(input_of(t, s)));
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (int s = 0; s < kSteps; ++s) EXPECT_TRUE(same(got[t][s], want[t][s])) << "thread " << t << " step " << s;
}

// A small labelled folder of PNGs (two classes) to load.
LabelledFolder small_folder(const test::TempDir& dir) {
  Rng rng(9);
  for (const char* name : {"a", "b"}) {
    std::filesystem::create_directories(dir.path() / name);
    for (int i = 0; i < 3; ++i) {
      Image im{31, 23, std::vector<uint8_t>(31 * 23 * 3)};
      for (auto& p : im.rgb) p = static_cast<uint8_t>(rng.next());
      write_png(im, (dir.path() / name / ("img" + std::to_string(i) + ".png")).string());
    }
  }
  return scan_labelled_folder(dir.path().string());
}

std::vector<train::Batch> epoch_of(const LabelledFolder& folder, int workers) {
  train::BatchLoader loader(folder, {2, true, Preset::torchvision, 4, workers});
  loader.start_epoch(1);
  std::vector<train::Batch> batches;
  for (int64_t b = 0; b < loader.batches(); ++b) batches.push_back(loader.next());
  return batches;
}

TEST(Concurrency, LoaderWorkersBesideEnginesGiveTheBatchesOfOneWorker) {
  test::TempDir dir;
  const LabelledFolder folder = small_folder(dir);
  const std::vector<train::Batch> want = epoch_of(folder, 1);
  const Model model(ModelConfig{Arch::squeezenet1_0, 2, 0.5f}, 4);
  const Tensor want_logits = Engine(model, 1).forward(input_of(1, 0));

  std::vector<std::vector<train::Batch>> loaded(2);
  std::vector<Tensor> logits(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] { loaded[t] = epoch_of(folder, 3); });
    threads.emplace_back([&, t] { logits[t] = Engine(model, 2).forward(input_of(1, 0)); });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 2; ++t) {
    EXPECT_TRUE(same(logits[t], want_logits));
    ASSERT_EQ(loaded[t].size(), want.size());
    for (std::size_t b = 0; b < want.size(); ++b) {
      EXPECT_TRUE(same(loaded[t][b].images, want[b].images)) << "batch " << b;
      EXPECT_EQ(loaded[t][b].labels, want[b].labels);
    }
  }
}

}  // namespace
}  // namespace squeezenet
