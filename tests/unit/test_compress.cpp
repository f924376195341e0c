// Deep Compression's stages: magnitude pruning, k-means weight sharing and the compress command.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "compress/codebook.h"
#include "compress/compress.h"
#include "compress/kmeans.h"
#include "compress/prune.h"
#include "compress/retrain.h"
#include "compress/share.h"
#include "compress/sweep.h"
#include "formats/sqz.h"
#include "squeezenet/dataset.h"
#include "random_tensor.h"
#include "run_cli.h"
#include "squeezenet/error.h"
#include "expect_error.h"
#include "temp_dir.h"
#include "test_env.h"
#include "util/io.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

int64_t nonzeros(const Tensor& t) {
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += t[i] != 0.0f;
  return n;
}

TEST(Prune, KeepsTheLargestMagnitudesAndCountsExistingZerosAsPruned) {
  Tensor w = test::random_tensor({7, 5, 3, 3}, 2);
  for (int64_t i = 0; i < w.numel(); i += 4) w[i] = 0.0f;
  const Tensor before = w;
  const int64_t kept = prune_by_magnitude(w, 0.3);
  EXPECT_EQ(kept, std::llround(0.3 * w.numel()));
  float smallest_kept = 1e9f, largest_pruned = 0.0f;
  for (int64_t i = 0; i < w.numel(); ++i) {
    if (w[i] != 0.0f) {
      EXPECT_EQ(w[i], before[i]);
      smallest_kept = std::min(smallest_kept, std::fabs(w[i]));
    } else {
      largest_pruned = std::max(largest_pruned, std::fabs(before[i]));
    }
  }
  EXPECT_GE(smallest_kept, largest_pruned);
  Tensor sparse = before;
  EXPECT_EQ(prune_by_magnitude(sparse, 1.0), nonzeros(before));  // density 1 prunes nothing new
}

TEST(Prune, ShapedDensitiesMeetTheGlobalTarget) {
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    ModelConfig c;
    c.arch = arch;
    const auto d = shaped_densities(c, 0.33);
    // --density 1 is how masked fine-tuning runs without pruning more: every layer must keep every weight.
    const auto all = shaped_densities(c, 1.0);
    double kept = 0, total = 0;
    for (const ConvRef& conv : conv_layers(c)) {
      const double n = double(conv.spec.out_channels) * conv.spec.in_channels * conv.spec.kernel * conv.spec.kernel;
      kept += d.at(conv.name) * n;
      total += n;
      EXPECT_EQ(std::llround(all.at(conv.name) * n), std::llround(n)) << conv.name;
    }
    EXPECT_NEAR(kept / total, 0.33, 1e-6);
    EXPECT_LT(d.at("classifier.1"), d.at("features.0"));
  }
}

TEST(Kmeans, EveryStartFindsWellSeparatedClusters) {
  Rng rng(4);
  std::vector<float> values;
  const float centres[] = {-2.0f, -0.5f, 1.0f, 3.0f};
  for (int i = 0; i < 4000; ++i) values.push_back(centres[i % 4] + static_cast<float>(rng.uniform(-0.05, 0.05)));
  for (KmeansInit init : {KmeansInit::linear, KmeansInit::density, KmeansInit::forgy, KmeansInit::kmeans_pp}) {
    if (init == KmeansInit::forgy) continue;  // random picks may start two centroids in one cluster
    const auto c = kmeans_1d(values, 4, init, 7).centroids;
    ASSERT_EQ(c.size(), 4u);
    for (int j = 0; j < 4; ++j) EXPECT_NEAR(c[j], centres[j], 0.01) << static_cast<int>(init) << " " << j;
  }
  const auto f = kmeans_1d(values, 4, KmeansInit::forgy, 7).centroids;
  EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
  EXPECT_EQ(parse_kmeans_init("kmeans++"), KmeansInit::kmeans_pp);
  EXPECT_THROW(parse_kmeans_init("random"), Error);
}

// Laplacian values, shaped like a layer's weights: many small, a few large.
std::vector<float> laplacian(int n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform(-0.5, 0.5);
    v.push_back(static_cast<float>(-0.1 * std::copysign(std::log(1 - 2 * std::fabs(u) + 1e-12), u)));
  }
  return v;
}

// Squared error and empirical entropy (bits per value) of quantizing `values` with `q`.
std::pair<double, double> error_and_entropy(const std::vector<float>& values, const Quantizer& q) {
  std::vector<double> counts(q.centroids.size(), 0.0);
  double error = 0, bits = 0;
  for (float v : values) {
    const std::size_t j = q.index(v);
    counts[j] += 1;
    error += (v - q.centroids[j]) * (v - q.centroids[j]);
  }
  for (double c : counts)
    if (c > 0) bits -= c * std::log2(c / static_cast<double>(values.size()));
  return {error, bits / static_cast<double>(values.size())};
}

TEST(Kmeans, AQuantizerSendsEachValueToItsCheapestCentroid) {
  const std::vector<float> values = laplacian(3000, 5);
  for (double weight : {0.0, 0.01, 0.1}) {
    const Quantizer q = kmeans_1d(values, 31, KmeansInit::kmeans_pp, 3, weight);
    ASSERT_EQ(q.rate.size(), q.centroids.size());
    ASSERT_EQ(q.thresholds.size() + 1, q.centroids.size());
    EXPECT_TRUE(std::is_sorted(q.thresholds.begin(), q.thresholds.end()));
    EXPECT_EQ(std::adjacent_find(q.centroids.begin(), q.centroids.end(), std::greater_equal<double>()),
              q.centroids.end()) << "ascending and distinct";
    std::vector<int> used(q.centroids.size(), 0);
    for (float v : values) {
      std::size_t best = 0;
      auto cost = [&](std::size_t j) { return (v - q.centroids[j]) * (v - q.centroids[j]) + q.rate[j]; };
      for (std::size_t j = 1; j < q.centroids.size(); ++j)
        if (cost(j) < cost(best)) best = j;
      const std::size_t j = q.index(v);
      EXPECT_NEAR(cost(j), cost(best), 1e-12) << v;
      ++used[j];
      if (weight == 0) {
        EXPECT_EQ(q.rate[j], 0.0);
      }
    }
    // Every centroid serves some value: a rate that hides one drops it.
    if (weight > 0) {
      EXPECT_EQ(std::count(used.begin(), used.end(), 0), 0) << weight;
    }
  }
  Quantizer hidden{{-1.0, 0.0, 1.0}, {0.0, 5.0, 0.0}, {}};
  hidden.build();
  EXPECT_EQ(hidden.centroids, (std::vector<double>{-1.0, 1.0}));
  EXPECT_EQ(hidden.index(-0.1f), 0u);
  EXPECT_EQ(hidden.index(0.1f), 1u);
}

TEST(Kmeans, EntropyConstrainedSpendsFewerBitsForMoreError) {
  const std::vector<float> values = laplacian(5000, 9);
  const auto [plain_error, plain_bits] = error_and_entropy(values, kmeans_1d(values, 63, KmeansInit::kmeans_pp, 1));
  double last_error = plain_error, last_bits = plain_bits;
  for (double weight : {0.003, 0.03, 0.3}) {
    const Quantizer q = kmeans_1d(values, 63, KmeansInit::kmeans_pp, 1, weight);
    const auto [error, bits] = error_and_entropy(values, q);
    EXPECT_LT(bits, last_bits) << weight;
    EXPECT_GT(error, last_error) << weight;
    last_error = error;
    last_bits = bits;
  }
  EXPECT_LT(last_bits, plain_bits - 2.0) << "a strong weight leaves few centroids";
}

TEST(Kmeans, MagnitudeWeightingPullsEachCentroidTowardItsLargerValues) {
  const std::vector<float> values = laplacian(5000, 4);
  const Quantizer plain = kmeans_1d(values, 7, KmeansInit::linear, 1);
  EXPECT_EQ(kmeans_1d(values, 7, KmeansInit::linear, 1, 0.0, 0.0).centroids, plain.centroids);
  const Quantizer weighted = kmeans_1d(values, 7, KmeansInit::linear, 1, 0.0, 2.0);
  ASSERT_EQ(weighted.centroids.size(), plain.centroids.size());
  // The outer clusters, one-signed, sit farther out than their plain means
  EXPECT_GT(weighted.centroids.back(), plain.centroids.back());
  EXPECT_LT(weighted.centroids.front(), plain.centroids.front());
  // and the weighted mean of what it takes
  const std::size_t k = weighted.centroids.size();
  std::vector<double> sum(k), mass(k);
  for (float v : values) {
    sum[weighted.index(v)] += double(v) * v * v;
    mass[weighted.index(v)] += double(v) * v;
  }
  for (std::size_t j = 0; j < k; ++j) EXPECT_NEAR(weighted.centroids[j], sum[j] / mass[j], 1e-6) << j;
}

TEST(Share, ZerosStayZeroAndNoOtherWeightBecomesZero) {
  Tensor w = test::random_tensor({16, 8, 3, 3}, 8);
  prune_by_magnitude(w, 0.4);
  w[w.numel() - 1] = 1e-7f;  // the smallest weight must keep a non-zero centroid
  const Tensor before = w;
  const auto codebook = share_weights(w, 4, KmeansInit::linear, true, 1);
  EXPECT_LE(codebook.size(), 16u);
  EXPECT_EQ(codebook[0], 0.0f);
  std::set<float> distinct;
  for (int64_t i = 0; i < w.numel(); ++i) {
    EXPECT_EQ(w[i] == 0.0f, before[i] == 0.0f) << i;
    if (w[i] != 0.0f) distinct.insert(w[i]);
    EXPECT_NE(std::find(codebook.begin(), codebook.end(), w[i]), codebook.end());
  }
  EXPECT_LE(distinct.size(), 15u);
  // Few distinct values: they are the codebook and nothing moves.
  Tensor few({3, 3}, 0.25f);
  few[4] = -0.5f;
  few[5] = 0.0f;
  const Tensor copy = few;
  EXPECT_EQ(share_weights(few, 2, KmeansInit::linear, false, 1), (std::vector<float>{0.0f, -0.5f, 0.25f}));
  EXPECT_EQ(max_abs_diff(few, copy), 0.0f);
}

TEST(Share, RoundingToHalfKeepsCodesAndZeros) {
  const ModelConfig config{Arch::squeezenet1_1, 10};
  WeightFile weights = Model(config).to_weights("torchvision");
  CompressOptions options;
  options.bits["features.3.squeeze"] = 4;
  WeightFile shared = compress_weights(weights, config, options);
  std::vector<float>& codebook = shared.codebooks.at("features.3.squeeze.weight");
  Tensor& w = shared.tensors.at("features.3.squeeze.weight");
  w[0] = 0.0f;
  const std::vector<uint8_t> before = codes_for(w, codebook);
  for (std::size_t j = 1; j < codebook.size(); ++j) codebook[j] += 1e-5f;  // as retraining moves them
  for (std::size_t i = 0; i < before.size(); ++i) w[static_cast<int64_t>(i)] = codebook[before[i]];
  codebook[1] = 1e-9f;  // under float16's smallest subnormal: must not become a pruned zero
  for (std::size_t i = 0; i < before.size(); ++i) w[static_cast<int64_t>(i)] = codebook[before[i]];
  round_to_half(shared, config);
  for (std::size_t j = 1; j < codebook.size(); ++j) {
    EXPECT_NE(codebook[j], 0.0f) << j;
    if (j > 1) {
      EXPECT_EQ(codebook[j], half_to_float(float_to_half(codebook[j]))) << j;
    }
  }
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(w[static_cast<int64_t>(i)], codebook[before[i]]) << i;
  EXPECT_EQ(w[0], 0.0f);
  const Tensor& bias = shared.tensors.at("features.0.bias");
  for (int64_t i = 0; i < bias.numel(); ++i) EXPECT_EQ(bias[i], half_to_float(float_to_half(bias[i])));
}

// Four real images distilled from `teacher`: enough for a few tuning steps.
TuningSet four_image_set(const Model& teacher) {
  std::vector<LabelledImage> images = scan_labelled_folder(test::data_dir() + "/imagenet-sample-1000").images;
  images.resize(4);
  return make_tuning_set(teacher, images, false, 2, Preset::torchvision);
}

// Centroid tuning of a 3-bit, 40 %-dense student of `teacher` on `data` for `epochs`: every epoch reports a loss,
// centroids move, and every weight keeps its code (zeros stay zero), now pointing at its moved centroid.
void expect_centroids_move_codes_stay(const Model& teacher, const TuningData& data, int epochs) {
  const ModelConfig& c = teacher.config();
  CompressOptions o;
  o.density = shaped_densities(c, 0.4);
  for (const ConvRef& conv : conv_layers(c)) o.bits[conv.name] = 3;
  WeightFile student = compress_weights(teacher.to_weights("torchvision"), c, o);
  const WeightFile before = student;
  RetrainOptions ro;
  ro.epochs = epochs;
  ro.lr = 1e-3;
  std::vector<double> losses;
  tune_centroids(student, data, ro, [&](int, double loss) { losses.push_back(loss); });
  ASSERT_EQ(losses.size(), static_cast<std::size_t>(epochs));
  EXPECT_TRUE(std::isfinite(losses[0]) && losses[0] > 0);
  int moved = 0;
  for (const auto& [name, codebook] : student.codebooks) {
    const Tensor& w = student.tensors.at(name);
    const Tensor& w0 = before.tensors.at(name);
    const std::vector<float>& cb0 = before.codebooks.at(name);
    ASSERT_EQ(codebook.size(), cb0.size());
    for (std::size_t k = 1; k < codebook.size(); ++k) moved += codebook[k] != cb0[k];
    for (int64_t i = 0; i < w.numel(); ++i) {
      ASSERT_EQ(w[i] == 0.0f, w0[i] == 0.0f) << name << " " << i;
      if (w0[i] != 0.0f) {
        const auto k = std::find(cb0.begin(), cb0.end(), w0[i]) - cb0.begin();
        ASSERT_EQ(w[i], codebook[static_cast<std::size_t>(k)]) << name << " " << i;
      }
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(Retrain, CentroidsMoveButCodesAndZerosStay) {
  ModelConfig c;
  c.num_classes = 10;
  const Model teacher(c, 3);
  const TuningSet set = four_image_set(teacher);
  ASSERT_EQ(set.count, 4);
  EXPECT_TRUE(set.labels.empty());
  expect_centroids_move_codes_stay(teacher, set, 2);
}

TEST(Retrain, ReassigningCodesChangesThemButKeepsZerosAndTheCodebookBound) {
  ModelConfig c;
  c.num_classes = 10;
  const Model teacher(c, 3);
  CompressOptions prune;
  prune.density = shaped_densities(c, 0.4);
  const WeightFile floats = compress_weights(teacher.to_weights("torchvision"), c, prune);
  CompressOptions share;
  for (const ConvRef& conv : conv_layers(c)) share.bits[conv.name] = 3;
  WeightFile student = compress_weights(floats, c, share);
  const WeightFile before = student;
  RetrainOptions ro;
  ro.epochs = 2;
  ro.lr = 1e-3;
  CodeTuning codes;
  codes.shadow = &floats;
  codes.every = 1;
  codes.lr = 3e-2;
  const TuningSet set = four_image_set(teacher);
  tune_centroids(student, set, ro, nullptr, &codes);
  int split = 0;  // weights that shared a centroid before and do not now
  for (const auto& [name, codebook] : student.codebooks) {
    const Tensor& w = student.tensors.at(name);
    const Tensor& w0 = before.tensors.at(name);
    EXPECT_LE(codebook.size(), 8u) << name;
    EXPECT_EQ(codebook[0], 0.0f);
    std::map<float, std::set<float>> now_of;
    for (int64_t i = 0; i < w.numel(); ++i) {
      ASSERT_EQ(w[i] == 0.0f, w0[i] == 0.0f) << name << " " << i;
      ASSERT_NE(std::find(codebook.begin(), codebook.end(), w[i]), codebook.end()) << name << " " << i;
      now_of[w0[i]].insert(w[i]);
    }
    for (const auto& [old, now] : now_of) split += now.size() > 1;
  }
  EXPECT_GT(split, 0);
}

TEST(Retrain, MaskedFineTuningMovesSurvivorsAndKeepsPrunedWeightsZero) {
  const std::string dir = test::data_dir() + "/imagenet-sample-1000";
  ASSERT_TRUE(std::filesystem::exists(dir)) << dir;
  std::vector<LabelledImage> images = scan_labelled_folder(dir).images;
  images.resize(4);
  for (int i = 0; i < 4; ++i) images[static_cast<std::size_t>(i)].label = i;
  ModelConfig c;
  c.num_classes = 10;
  const Model teacher(c, 3);
  CompressOptions o;
  o.density = shaped_densities(c, 0.4);
  WeightFile student = compress_weights(teacher.to_weights("torchvision"), c, o);
  const WeightFile before = student;
  const TuningSet set = make_tuning_set(teacher, images, true, 3, Preset::torchvision);
  ASSERT_EQ(set.labels.size(), 2u);  // batches of 3 and 1
  EXPECT_EQ(set.labels[1], std::vector<int>{3});
  RetrainOptions ro;
  ro.epochs = 1;
  ro.lr = 1e-3;
  tune_weights(student, set, ro, nullptr);
  for (const ConvRef& conv : conv_layers(c)) {
    const Tensor& w = student.tensors.at(conv.name + ".weight");
    const Tensor& w0 = before.tensors.at(conv.name + ".weight");
    int64_t moved = 0, survivors = 0;
    for (int64_t i = 0; i < w.numel(); ++i) {
      ASSERT_EQ(w[i] == 0.0f, w0[i] == 0.0f) << conv.name << " " << i;
      survivors += w0[i] != 0.0f;
      moved += w[i] != w0[i];
    }
    EXPECT_GT(moved, survivors / 2) << conv.name;  // Adam moves every weight whose gradient is not zero
  }
  // Labels outside the teacher's classes are not labels for it: the set is distilled only.
  images[0].label = 10;
  EXPECT_TRUE(make_tuning_set(teacher, images, true, 4, Preset::torchvision).labels.empty());
}

// The first `n` images of the ImageNet sample, unlabelled.
std::vector<LabelledImage> sample_images(std::size_t n) {
  std::vector<LabelledImage> images = scan_labelled_folder(test::data_dir() + "/imagenet-sample-1000").images;
  images.resize(n);
  return images;
}

bool same_tensors(const WeightFile& a, const WeightFile& b) {
  for (const auto& [name, t] : a.tensors)
    if (max_abs_diff(t, b.tensors.at(name)) != 0.0f) return false;
  return true;
}

TEST(Retrain, AugmentedTuningIsReproducibleBySeedAndDiffersFromCentreCrops) {
  ModelConfig c;
  c.num_classes = 10;
  const Model teacher(c, 3);
  CompressOptions o;
  o.density = shaped_densities(c, 0.4);
  const WeightFile pruned = compress_weights(teacher.to_weights("torchvision"), c, o);
  const std::vector<LabelledImage> images = sample_images(4);
  RetrainOptions ro;
  ro.epochs = 1;
  ro.lr = 1e-3;
  auto tuned = [&](const TuningData& data) {
    WeightFile w = pruned;
    tune_weights(w, data, ro, nullptr);
    return w;
  };
  const AugmentedTuning seven = make_augmented_tuning(teacher, images, false, 2, Preset::torchvision, 7);
  const WeightFile a = tuned(seven), again = tuned(seven);
  EXPECT_TRUE(same_tensors(a, again));
  EXPECT_FALSE(same_tensors(a, tuned(make_augmented_tuning(teacher, images, false, 2, Preset::torchvision, 8))));
  EXPECT_FALSE(same_tensors(a, tuned(make_tuning_set(teacher, images, false, 2, Preset::torchvision))));
  ro.first_epoch = 1;  // a later stage's crops
  EXPECT_FALSE(same_tensors(a, tuned(seven)));
  for (const ConvRef& conv : conv_layers(c)) {
    const Tensor& w = a.tensors.at(conv.name + ".weight");
    const Tensor& w0 = pruned.tensors.at(conv.name + ".weight");
    for (int64_t i = 0; i < w.numel(); ++i) ASSERT_EQ(w[i] == 0.0f, w0[i] == 0.0f) << conv.name << " " << i;
  }
}

TEST(Retrain, AugmentedCentroidTuningKeepsZerosAndCodes) {
  ModelConfig c;
  c.num_classes = 10;
  const Model teacher(c, 3);
  const AugmentedTuning set = make_augmented_tuning(teacher, sample_images(3), true, 2, Preset::torchvision, 1);
  EXPECT_TRUE(set.labelled);  // the sample's first three images are classes 0, 1 and 2
  expect_centroids_move_codes_stay(teacher, set, 1);
}

TEST(Sweep, MeasuresEveryLayerAtEveryDensityAndProposesWithinTheTolerance) {
  const std::string dir = test::data_dir() + "/imagenet-sample-1000";
  ASSERT_TRUE(std::filesystem::exists(dir)) << dir;
  std::vector<LabelledImage> images = scan_labelled_folder(dir).images;
  images.resize(3);
  ModelConfig c;
  c.num_classes = 10;
  const Model teacher(c, 5);
  const TuningSet set = make_tuning_set(teacher, images, false, 3, Preset::torchvision);
  double baseline = 0;
  // Any loss is within a tolerance of 1: every layer gets the lowest density tried.
  auto rows = sensitivity_sweep(teacher.to_weights("torchvision"), set, {0.5, 0.05}, 1.0, baseline);
  EXPECT_EQ(baseline, 1.0);  // the unpruned student agrees with itself
  ASSERT_EQ(rows.size(), conv_layers(c).size());
  for (const SweepRow& r : rows) {
    ASSERT_EQ(r.accuracy.size(), 2u);
    EXPECT_EQ(r.proposed, 0.05) << r.layer;
  }
  // No loss allowed: a layer keeps 1.0 unless pruning it changed no prediction.
  rows = sensitivity_sweep(teacher.to_weights("torchvision"), set, {0.05}, 0.0, baseline);
  for (const SweepRow& r : rows) EXPECT_EQ(r.proposed, r.accuracy[0] == 1.0 ? 0.05 : 1.0) << r.layer;
  test::expect_error([&] { sensitivity_sweep(teacher.to_weights("torchvision"), set, {0.0}, 0.0, baseline); }, {"(0, 1]"});
}

TEST(Retrain, AFlatFolderOfOtherNamesIsUnlabelled) {
  test::TempDir dir;
  const std::string src = test::data_dir() + "/imagenet-sample-1000/n01440764_tench.JPEG";
  std::filesystem::copy_file(src, dir.file("holiday.jpg"));
  std::filesystem::copy_file(src, dir.file("cat.jpeg"));
  const LabelledFolder f = scan_tuning_folder(dir.path().string());
  EXPECT_EQ(f.layout, "unlabelled");
  ASSERT_EQ(f.images.size(), 2u);
  EXPECT_EQ(f.images[0].label, -1);
  EXPECT_EQ(scan_tuning_folder(test::data_dir() + "/imagenet-sample-1000").layout, "wnid-file-names");
}

TEST(CompressCli, SharesPrunesAndRefusesUnknownLayers) {
  const std::string net = test::data_dir() + "/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net";
  ASSERT_TRUE(std::filesystem::exists(net)) << net;
  test::TempDir dir;
  const std::string lossless = dir.file("8.sqz"), six = dir.file("6.sqz");
  auto r = test::run_cli("compress -w '" + net + "' --bits 8 --out '" + lossless + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const WeightFile original = load_weights(net), same = load_weights(lossless);
  for (const auto& [name, t] : original.tensors) EXPECT_EQ(max_abs_diff(t, same.tensors.at(name)), 0.0f) << name;

  r = test::run_cli("compress -w '" + net + "' --bits 6,classifier.1=4 --density features.0=0.5 --out '" + six + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote"), std::string::npos);
  const WeightFile small = load_weights(six);
  EXPECT_EQ(nonzeros(small.tensors.at("features.0.weight")), 96 * 3 * 7 * 7 / 2);
  for (const auto& [name, t] : small.tensors) {
    if (t.ndim() < 4) continue;
    std::set<float> distinct;
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (t[i] != 0.0f) distinct.insert(t[i]);
      // without pruning, a layer keeps exactly the authors' zeros
      if (name != "features.0.weight") {
        ASSERT_EQ(t[i] == 0.0f, original.tensors.at(name)[i] == 0.0f) << name;
      }
    }
    EXPECT_LE(distinct.size(), name == "classifier.1.weight" ? 15u : 63u) << name;
  }
  EXPECT_LT(std::filesystem::file_size(six), std::filesystem::file_size(lossless));

  r = test::run_cli("compress -w '" + net + "' --density features.99.squeeze=0.5 --out '" + dir.file("x.sqz") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("features.99.squeeze"), std::string::npos) << r.output;
  r = test::run_cli("compress -w '" + net + "' --bits 9 --out '" + dir.file("x.sqz") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.sqz")));
  r = test::run_cli("compress -w '" + net + "' --bits 6 --entropy-weight=-1 --out '" + dir.file("x.sqz") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--entropy-weight"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.sqz")));

  const std::string plain = dir.file("plain.sqz"), constrained = dir.file("ecsq.sqz");
  r = test::run_cli("compress -w '" + net + "' --bits 6 --init kmeans++ --out '" + plain + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_cli("compress -w '" + net + "' --bits 6 --init kmeans++ --entropy-weight 0.003 --out '" + constrained + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT(std::filesystem::file_size(constrained), std::filesystem::file_size(plain) * 0.99);

  r = test::run_cli("info -w '" + six + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("entropy"), std::string::npos);
  EXPECT_NE(r.output.find("classifier.1"), std::string::npos);
}

TEST(CompressCli, TeacherAndAugmentedTuning) {
  const std::string data = test::data_dir();
  const std::string tv11 = data + "/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param";
  const std::string dc10 = data + "/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net";
  ASSERT_TRUE(std::filesystem::exists(tv11)) << tv11;
  test::TempDir dir;
  for (const char* name : {"a.jpg", "b.jpg"})
    std::filesystem::copy_file(data + "/imagenet-sample-1000/n01440764_tench.JPEG", dir.file(name));
  const std::string tune = " --tune '" + dir.path().string() + "'", out = dir.file("x.sqz");
  auto r = test::run_cli("compress -w '" + tv11 + "' --teacher '" + dc10 + "'" + tune + " --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("squeezenet1_1 with 1000 classes like --weights; it is squeezenet1_0"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  r = test::run_cli("compress -w '" + tv11 + "' --augment --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--augment needs --tune"), std::string::npos) << r.output;
  r = test::run_cli("compress -w '" + tv11 + "'" + tune + " --prune-epochs 2 --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--prune-epochs needs --density"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));

  r = test::run_cli("compress -w '" + tv11 + "' --teacher '" + tv11 + "'" + tune +
                    " --augment --density 0.5 --prune-epochs 1 --epochs 0 --batch 2 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("(distilled, augmented, taught by"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("masked fine-tuning epoch 1"), std::string::npos) << r.output;
  r = test::run_cli("compress --help");
  EXPECT_NE(r.output.find("--augment"), std::string::npos);
  EXPECT_NE(r.output.find("--teacher"), std::string::npos);
}

}  // namespace
}  // namespace squeezenet
