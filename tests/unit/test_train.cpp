// The optimiser and schedules by hand, the augmentation's sampling rules, and whole runs on a tiny generated
// image folder: exact resume, bad folders and checkpoints refused with clear errors, broken images skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "squeezenet/error.h"
#include "squeezenet/train.h"
#include "squeezenet/visualize.h"
#include "squeezenet/weights.h"
#include "temp_dir.h"
#include "train/augment.h"
#include "train/checkpoint.h"
#include "train/loader.h"
#include "train/trainer.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

TEST(Sgd, FollowsTorchOrderOfOperations) {
  Model model(ModelConfig{Arch::squeezenet1_1, 2, 0.5f}, 1);
  const std::string name = "classifier.1.bias";
  model.parameter(name) = Tensor({2}, 1.0f);
  Gradients g{{name, Tensor({2}, 0.5f)}};
  Sgd sgd({0.9, 0.1, 0.01, true});
  sgd.set_lr_mult(name, 2.0);
  // Step 1: d = 0.5 + 0.01 * 1 = 0.51; buf = d; nesterov d = 0.51 + 0.9 * 0.51; p = 1 - 0.2 * d.
  sgd.step(model, g, 0.1);
  const double d1 = 0.51, p1 = 1.0 - 0.2 * (d1 + 0.9 * d1);
  EXPECT_NEAR(model.parameter(name)[0], p1, 1e-6);
  // Step 2: buf = 0.9 * buf + 0.9 * d.
  sgd.step(model, g, 0.1);
  const double d2 = 0.5 + 0.01 * p1, buf2 = 0.9 * d1 + 0.9 * d2;
  EXPECT_NEAR(model.parameter(name)[0], p1 - 0.2 * (d2 + 0.9 * buf2), 1e-6);
  EXPECT_NEAR(sgd.momentum_buffers().at(name)[1], buf2, 1e-6);
}

TEST(Schedule, PolicesAndWarmup) {
  LrSchedule s;
  s.base_lr = 0.04, s.total_steps = 100;
  s.policy = LrPolicy::poly;
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.04);
  EXPECT_DOUBLE_EQ(s.lr_at(50), 0.02);
  EXPECT_DOUBLE_EQ(s.lr_at(100), 0.0);
  s.policy = LrPolicy::step, s.step_size = 30, s.gamma = 0.1;
  EXPECT_NEAR(s.lr_at(29), 0.04, 1e-12);
  EXPECT_NEAR(s.lr_at(30), 0.004, 1e-12);
  s.policy = LrPolicy::cosine;
  EXPECT_NEAR(s.lr_at(50), 0.02, 1e-12);
  s.policy = LrPolicy::fixed, s.warmup_steps = 4;
  EXPECT_NEAR(s.lr_at(0), 0.01, 1e-12);
  EXPECT_NEAR(s.lr_at(3), 0.04, 1e-12);
  EXPECT_THROW(parse_lr_policy("exp"), Error);
}

TEST(Augment, RandomResizedCropWindowsFollowTorchvisionRules) {
  Rng rng(3);
  for (auto [w, h] : {std::pair{500, 375}, {31, 400}, {400, 31}, {1, 1}}) {
    for (int i = 0; i < 200; ++i) {
      const Window win = train::random_resized_crop_window(w, h, rng);
      ASSERT_GE(win.left, 0);
      ASSERT_GE(win.top, 0);
      ASSERT_GE(win.width, 1);
      ASSERT_GE(win.height, 1);
      ASSERT_LE(win.left + win.width, w);
      ASSERT_LE(win.top + win.height, h);
      const double area = static_cast<double>(win.width) * win.height / (static_cast<double>(w) * h);
      if (w == 500) {
        EXPECT_GE(area, 0.07);  // the sampled scale's lower end, up to rounding
      }
    }
  }
  const Image image{50, 40, std::vector<uint8_t>(50 * 40 * 3, 7)};
  const Image crop = train::random_resized_crop_flip(image, 24, rng);
  EXPECT_EQ(crop.width, 24);
  EXPECT_EQ(crop.height, 24);
}

// A labelled folder of small PNGs: classes a and b, `per_class` images each, colours telling them apart.
void make_folder(const std::filesystem::path& dir, const std::vector<std::string>& classes, int per_class,
                 uint64_t seed) {
  Rng rng(seed);
  for (std::size_t k = 0; k < classes.size(); ++k) {
    std::filesystem::create_directories(dir / classes[k]);
    for (int i = 0; i < per_class; ++i) {
      Image im{37, 29, std::vector<uint8_t>(37 * 29 * 3)};
      for (std::size_t p = 0; p < im.rgb.size(); ++p)
        im.rgb[p] = static_cast<uint8_t>((p % 3 == k ? 150 : 40) + rng.next() % 60);
      write_png(im, (dir / classes[k] / ("img" + std::to_string(i) + ".png")).string());
    }
  }
}

struct TinyRun {
  test::TempDir dir;
  train::TrainOptions options;
  explicit TinyRun(bool classifier_only = true) {
    make_folder(dir.path() / "train", {"a", "b"}, 3, 1);
    make_folder(dir.path() / "val", {"a", "b"}, 2, 2);
    options.train_dir = dir.file("train");
    options.val_dir = dir.file("val");
    options.out_dir = dir.file("out");
    options.epochs = 2;
    options.batch_size = 2;
    options.workers = 2;
    options.sgd = {0.9, 0.0, 5e-4, false};
    options.schedule.base_lr = 0.01;
    options.classifier_only = classifier_only;
    options.progress = false;
    options.seed = 5;
  }
};

TEST(Loader, RanksSplitTheGlobalBatchOfOneProcess) {
  TinyRun run;  // 6 training images: global batches of 4 and 2
  const LabelledFolder folder = scan_labelled_folder(run.options.train_dir);
  train::BatchLoader whole(folder, {4, true, Preset::torchvision, 5, 1});
  train::BatchLoader rank0(folder, {2, true, Preset::torchvision, 5, 1, 0, 2});
  train::BatchLoader rank1(folder, {2, true, Preset::torchvision, 5, 1, 1, 2});
  ASSERT_EQ(rank0.batches(), whole.batches());
  EXPECT_EQ(rank0.images_in(0), 4);
  EXPECT_EQ(rank0.images_in(1), 2);
  for (train::BatchLoader* l : {&whole, &rank0, &rank1}) l->start_epoch(1);
  for (int64_t b = 0; b < whole.batches(); ++b) {
    const train::Batch all = whole.next(), a = rank0.next(), c = rank1.next();
    std::vector<uint64_t> samples = a.samples;
    samples.insert(samples.end(), c.samples.begin(), c.samples.end());
    EXPECT_EQ(samples, all.samples) << "batch " << b;
    EXPECT_EQ(a.images.numel() + c.images.numel(), all.images.numel());
    EXPECT_TRUE(std::equal(a.images.data(), a.images.data() + a.images.numel(), all.images.data()));
    EXPECT_TRUE(std::equal(c.images.data(), c.images.data() + c.images.numel(), all.images.data() + a.images.numel()));
  }
}

TEST(Trainer, ResumeContinuesBitForBit) {
  TinyRun run(false);
  run.options.epochs = 1;
  Model straight(ModelConfig{Arch::squeezenet1_1, 2, 0.5f}, 7);
  train::train(straight, run.options);

  Model resumed(ModelConfig{Arch::squeezenet1_1, 2, 0.5f}, 7);
  run.options.max_steps = 1;  // stops after the first of the epoch's 3 steps, with a checkpoint
  const train::TrainResult first = train::train(resumed, run.options);
  EXPECT_TRUE(first.interrupted);
  run.options.max_steps = 0;
  run.options.resume = run.options.out_dir + "/checkpoint.safetensors";
  const train::TrainResult second = train::train(resumed, run.options);
  EXPECT_FALSE(second.interrupted);
  for (const std::string& name : straight.parameter_names())
    EXPECT_EQ(max_abs_diff(straight.parameter(name), resumed.parameter(name)), 0.0f) << name;
  EXPECT_TRUE(std::filesystem::exists(run.options.out_dir + "/best.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(run.options.out_dir + "/curves.png"));
  EXPECT_TRUE(std::filesystem::exists(run.options.out_dir + "/metrics.csv"));
}

TEST(Trainer, RefusesACheckpointOfAnotherArchitecture) {
  TinyRun run;
  Model v11(ModelConfig{Arch::squeezenet1_1, 2, 0.5f}, 7);
  run.options.epochs = 1;
  train::train(v11, run.options);
  Model v10(ModelConfig{Arch::squeezenet1_0, 2, 0.5f}, 7);
  run.options.resume = run.options.out_dir + "/checkpoint.safetensors";
  try {
    train::train(v10, run.options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("squeezenet1_1"), std::string::npos) << e.what();
  }
  // Plain weights are not a checkpoint.
  save_weights(v11.to_weights(), run.dir.file("plain.safetensors"), Format::safetensors);
  run.options.resume = run.dir.file("plain.safetensors");
  EXPECT_THROW(train::train(v11, run.options), Error);
}

void expect_error(const train::TrainOptions& o, int classes, const std::string& needle) {
  Model model(ModelConfig{Arch::squeezenet1_1, classes, 0.5f}, 7);
  try {
    train::train(model, o);
    FAIL() << "no error, expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Trainer, BadFoldersGiveClearErrors) {
  TinyRun run;
  std::filesystem::create_directories(run.dir.path() / "train" / "c");
  std::filesystem::create_directories(run.dir.path() / "val" / "c");
  expect_error(run.options, 3, "class folder without images");

  TinyRun one;
  std::filesystem::remove_all(one.dir.path() / "train" / "b");
  expect_error(one.options, 1, "only one class");

  TinyRun classes;
  expect_error(classes.options, 5, "set --classes 2");

  TinyRun val;
  std::filesystem::rename(val.dir.path() / "val" / "b", val.dir.path() / "val" / "z");
  expect_error(val.options, 2, "classes differ");
}

TEST(Trainer, BrokenImagesAreSkippedAndCounted) {
  TinyRun run;
  run.dir.write("train/a/broken.png", "\x89PNG\r\n\x1a\n not really");
  Model model(ModelConfig{Arch::squeezenet1_1, 2, 0.5f}, 7);
  const train::TrainResult r = train::train(model, run.options);
  EXPECT_EQ(r.skipped_images, 2);  // once per epoch
  EXPECT_GE(r.best_epoch, 1);
}

}  // namespace
}  // namespace squeezenet
