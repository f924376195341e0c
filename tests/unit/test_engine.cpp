// The public fast path: Engine and Model::forward agree with the reference forward, keep one plan per shape,
// and give the same answers alone, side by side in two threads, and with any thread count.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "model/forward_reference.h"
#include "model/thread_team.h"
#include "squeezenet/engine.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"
#include "random_tensor.h"

namespace squeezenet {
namespace {

Tensor random_input(Shape shape, uint64_t seed) { return test::random_tensor(std::move(shape), seed, -2, 2); }

Model model_of(Arch arch, int classes = 1000) {
  ModelConfig config;
  config.arch = arch;
  config.num_classes = classes;
  return Model(config, 42);
}

TEST(Engine, MatchesReferenceForBothArchitectures) {
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    const Model model = model_of(arch, 10);
    Engine engine(model);
    const Tensor x = random_input({2, 3, 96, 80}, 1);
    const Tensor want = forward_reference(model, x);
    EXPECT_LE(max_abs_diff(engine.forward(x), want), 1e-4) << arch_name(arch);
    EXPECT_LE(max_abs_diff(model.forward(x), want), 1e-4) << arch_name(arch);
  }
}

TEST(Engine, PrecisionNamesRoundTripAndBadOnesSayWhatIsAccepted) {
  for (Precision p : {Precision::fp32, Precision::bf16, Precision::int8})
    EXPECT_EQ(parse_precision(precision_name(p)), p);
  try {
    parse_precision("fp16");
    FAIL() << "fp16 parsed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp32, bf16 or int8"), std::string::npos) << e.what();
  }
}

TEST(Engine, Fp32IsTheDefaultAndNamesItsKernels) {
  const Model model = model_of(Arch::squeezenet1_1, 10);
  const Engine by_threads(model, 1), by_options(model, EngineOptions{.threads = 1});
  EXPECT_EQ(by_threads.precision(), Precision::fp32);
  EXPECT_EQ(by_options.precision(), Precision::fp32);
  EXPECT_NE(std::string(by_options.kernel_family()).find("fp32"), std::string::npos) << by_options.kernel_family();
}

TEST(Engine, Int8OnFp32WeightsRunsTheSyntheticQuantization) {
  const Model model = model_of(Arch::squeezenet1_1, 10);
  Engine engine(model, EngineOptions{.threads = 2, .precision = Precision::int8});
  EXPECT_EQ(engine.precision(), Precision::int8);
  EXPECT_NE(std::string(engine.kernel_family()).find("int8"), std::string::npos) << engine.kernel_family();
  const Tensor x = random_input({2, 3, 64, 72}, 4);
  const Tensor want = forward_int8_reference(*quantization_or_synthetic(model), x);
  const Tensor got = engine.forward(x);
  for (int64_t i = 0; i < want.numel(); ++i) ASSERT_EQ(got[i], want[i]) << i;
}

TEST(Engine, AlternatingShapesEachGetTheirOwnPlan) {
  const Model model = model_of(Arch::squeezenet1_1);
  Engine engine(model, 2);
  const Tensor a = random_input({1, 3, 64, 64}, 2), b = random_input({3, 3, 48, 72}, 3);
  const Tensor want_a = forward_reference(model, a), want_b = forward_reference(model, b);
  for (int round = 0; round < 2; ++round) {
    EXPECT_LE(max_abs_diff(engine.forward(a), want_a), 1e-4);
    EXPECT_LE(max_abs_diff(engine.forward(b), want_b), 1e-4);
  }
  for (int side = 40; side < 52; ++side) engine.forward(random_input({1, 3, side, side}, 4));  // evicts, still right
  EXPECT_LE(max_abs_diff(engine.forward(a), want_a), 1e-4);
}

TEST(Engine, ResultsDoNotDependOnThreadCount) {
  const Model model = model_of(Arch::squeezenet1_0);
  const Tensor x = random_input({3, 3, 70, 70}, 5);
  const Tensor one = Engine(model, 1).forward(x);
  EXPECT_EQ(max_abs_diff(Engine(model, 2).forward(x), one), 0.0f);
  EXPECT_EQ(max_abs_diff(Engine(model, 3).forward(x), one), 0.0f);
}

TEST(Engine, TwoEnginesInTwoThreadsAnswerAsAlone) {
  const Model model = model_of(Arch::squeezenet1_1);
  const Tensor x = random_input({2, 3, 80, 80}, 6), y = random_input({1, 3, 100, 90}, 7);
  const Tensor want_x = Engine(model, 2).forward(x), want_y = Engine(model, 2).forward(y);
  Tensor got_x, got_y;
  std::thread tx([&] {
    Engine e(model, 2);
    for (int i = 0; i < 5; ++i) got_x = e.forward(x);
  });
  std::thread ty([&] {
    Engine e(model, 2);
    for (int i = 0; i < 5; ++i) got_y = e.forward(y);
  });
  tx.join();
  ty.join();
  EXPECT_EQ(max_abs_diff(got_x, want_x), 0.0f);
  EXPECT_EQ(max_abs_diff(got_y, want_y), 0.0f);
}

TEST(Engine, RejectsBadInputsWithAnError) {
  const Model model = model_of(Arch::squeezenet1_1);
  Engine engine(model, 1);
  EXPECT_THROW(engine.forward(Tensor({1, 4, 64, 64})), Error);
  EXPECT_THROW(engine.forward(Tensor({1, 3, 8, 8})), Error);
  EXPECT_THROW(engine.forward(Tensor({3, 64, 64})), Error);
  EXPECT_THROW(Engine(model, -1), Error);
}

TEST(ThreadTeam, BarrierSeparatesPhasesAndRunsRepeat) {
  for (int size : {1, 2, 3}) {
    ThreadTeam team(size);
    EXPECT_EQ(team.size(), size);
    std::atomic<int> arrivals{0};
    for (int job = 0; job < 50; ++job) {
      std::vector<int> seen(static_cast<std::size_t>(size) * 20, -1);
      team.run([&](int member) {
        for (int round = 0; round < 20; ++round) {
          arrivals.fetch_add(1);
          team.barrier();  // every member has arrived for this round before anyone reads
          seen[static_cast<std::size_t>(round * size + member)] = arrivals.load();
          team.barrier();  // and everyone has read before the next round's arrivals
        }
      });
      for (int round = 0; round < 20; ++round)
        for (int member = 0; member < size; ++member)
          ASSERT_EQ(seen[static_cast<std::size_t>(round * size + member)], (job * 20 + round + 1) * size)
              << "size " << size << " job " << job << " round " << round;
    }
  }
}

}  // namespace
}  // namespace squeezenet
