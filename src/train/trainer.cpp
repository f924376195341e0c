#include "train/trainer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <vector>

#include "squeezenet/engine.h"
#include "squeezenet/error.h"
#include "squeezenet/visualize.h"
#include "squeezenet/weights.h"
#include "train/augment.h"
#include "train/checkpoint.h"
#include "train/gradient_buckets.h"
#include "train/loader.h"
#include "train/loss.h"
#include "train/pairwise_sum.h"
#include "train/plot.h"
#include "train/profile.h"
#include "util/io.h"

namespace squeezenet::train {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_sigint(int) { g_stop = true; }

// SIGINT asks the run to stop after its current step, for as long as the run lasts.
class SigintGuard {
 public:
  SigintGuard() : previous_(std::signal(SIGINT, on_sigint)) { g_stop = false; }
  ~SigintGuard() { std::signal(SIGINT, previous_); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  void (*previous_)(int);
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Doubles through text without loss: C's hexadecimal float format.
std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}
double parse_double(const std::map<std::string, std::string>& m, const std::string& key, const std::string& origin) {
  auto it = m.find(key);
  if (it == m.end()) throw Error(origin + ": checkpoint lacks " + quote_input(key));
  double v = NAN;
  try {
    v = std::stod(it->second);
  } catch (const std::exception&) {
  }
  // Counters become integers: a value outside what a double holds exactly is as broken as no number.
  if (!std::isfinite(v) || std::fabs(v) > 0x1p53)
    throw Error(origin + ": checkpoint value " + quote_input(key) + " is not a usable number: " + it->second);
  return v;
}

struct EpochMetrics {
  double train_loss, train_acc, val_loss, val_acc, lr, seconds, images_per_s;
  int skipped;
};

constexpr const char* kCsvHeader = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,images_per_s,skipped\n";

std::string csv_line(int epoch, const EpochMetrics& m) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f,%.2f,%d\n", epoch, m.train_loss, m.train_acc,
                m.val_loss, m.val_acc, m.lr, m.seconds, m.images_per_s, m.skipped);
  return buf;
}

Curves curves_of(const std::string& csv) {
  Curves c;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    double v[5];
    if (std::sscanf(line.c_str(), "%*d,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5) continue;
    c.train_loss.push_back(v[0]), c.train_acc.push_back(v[1]), c.val_loss.push_back(v[2]), c.val_acc.push_back(v[3]);
  }
  return c;
}

void progress_bar(int epoch, int epochs, int64_t done, int64_t total, double loss, double acc, double ips,
                  double eta) {
  constexpr int kWidth = 24;
  const int filled = total > 0 ? static_cast<int>(kWidth * done / total) : 0;
  std::fprintf(stderr, "\repoch %d/%d [%.*s%*s] %" PRId64 "/%" PRId64 "  loss %.4f  acc %5.1f%%  %6.1f img/s  ETA %3.0fs ",
               epoch + 1, epochs, filled, "########################", kWidth - filled, "", done, total, loss,
               100.0 * acc, ips, eta);
  std::fflush(stderr);
}

// Sums over the images a rank saw, made global by summing over the ranks.
struct Tally {
  double loss_sum = 0.0, seen = 0.0, correct = 0.0, skipped = 0.0;
  Tally over(Communicator& ranks) const {
    double v[] = {loss_sum, seen, correct, skipped};
    ranks.sum(v, 4);
    return {v[0], v[1], v[2], v[3]};
  }
  double loss() const { return seen > 0 ? loss_sum / seen : NAN; }
  double acc() const { return seen > 0 ? correct / seen : NAN; }
};

// This rank's share of the validation set.
Tally evaluate(const Model& model, BatchLoader& loader) {
  Engine engine(model);
  Tally t;
  loader.start_epoch(0);
  for (int64_t b = 0; b < loader.batches(); ++b) {
    Batch batch = loader.next();
    t.skipped += static_cast<double>(batch.errors.size());
    if (batch.labels.empty()) continue;
    const LossResult r = cross_entropy(engine.forward(batch.images), batch.labels);
    t.loss_sum += r.loss * static_cast<double>(batch.labels.size());
    t.correct += r.correct;
    t.seen += static_cast<double>(batch.labels.size());
  }
  return t;
}

}  // namespace

void request_stop() { g_stop = true; }

void check_datasets(const LabelledFolder& train, const LabelledFolder& val, int num_classes,
                    const std::string& train_dir, const std::string& val_dir) {
  if (train.layout == "image-folder") {
    if (train.class_names.size() < 2)
      throw Error(train_dir + ": only one class folder ('" + train.class_names.front() +
                  "'); a classifier needs at least two");
    std::vector<int> count(train.class_names.size());
    for (const LabelledImage& im : train.images) ++count[static_cast<std::size_t>(im.label)];
    for (std::size_t k = 0; k < count.size(); ++k)
      if (count[k] == 0) throw Error(train_dir + "/" + train.class_names[k] + ": class folder without images");
  }
  if (val.class_names != train.class_names)
    throw Error(val_dir + ": its classes differ from those of " + train_dir + " (" +
                std::to_string(val.class_names.size()) + " vs " + std::to_string(train.class_names.size()) + ")");
  if (num_classes != static_cast<int>(train.class_names.size()))
    throw Error("the model has " + std::to_string(num_classes) + " outputs but " + train_dir + " has " +
                std::to_string(train.class_names.size()) + " classes (set --classes " +
                std::to_string(train.class_names.size()) + ")");
}

Model pretrained_for_finetune(const std::string& weights, int classes, uint64_t seed, Preset& preset) {
  const WeightFile wf = load_weights(weights);
  Model model = Model::from_weights(wf, weights);
  const auto it = wf.metadata.find("preset");
  preset = it == wf.metadata.end() || it->second.empty() ? Preset::torchvision : parse_preset(it->second);
  if (classes != model.config().num_classes) model = with_new_classifier(model, classes, seed);
  return model;
}

TrainResult train(Model& model, const TrainOptions& o) {
  if (o.epochs < 1 || o.iter_size < 1) throw Error("--epochs and --iter-size must be at least 1");
  if (!(o.bucket_mb >= 0.0 && o.bucket_mb <= 1e6)) throw Error("--bucket-mb must be between 0 and 1e6");
  Communicator& ranks = o.ranks ? *o.ranks : single_process();
  const bool lead = ranks.rank() == 0;  // writes the files and shows progress
  const LabelledFolder train_set = scan_labelled_folder(o.train_dir);
  const LabelledFolder val_set = scan_labelled_folder(o.val_dir);
  check_datasets(train_set, val_set, model.config().num_classes, o.train_dir, o.val_dir);
  if (lead) {
    std::filesystem::create_directories(o.out_dir);
    remove_stale_temporaries(o.out_dir);  // what a run killed mid-write left
  }
  const std::string ckpt_path = o.out_dir + "/checkpoint.safetensors", best_path = o.out_dir + "/best.safetensors";
  const std::string csv_path = o.out_dir + "/metrics.csv", plot_path = o.out_dir + "/curves.png";

  BatchLoader loader(train_set, {o.batch_size, true, o.preset, o.seed, o.workers, ranks.rank(), ranks.size()});
  BatchLoader val_loader(val_set, {o.batch_size, false, o.preset, o.seed, o.workers, ranks.rank(), ranks.size()});
  const int64_t batches = loader.batches(), global_batch = int64_t{o.batch_size} * ranks.size();
  const int64_t steps_per_epoch = (batches + o.iter_size - 1) / o.iter_size;
  LrSchedule schedule = o.schedule;
  schedule.total_steps = steps_per_epoch * o.epochs;
  schedule.step_size = std::max<int64_t>(1, std::llround(o.step_epochs * static_cast<double>(steps_per_epoch)));
  schedule.warmup_steps = static_cast<int64_t>(std::llround(o.warmup_epochs * static_cast<double>(steps_per_epoch)));
  // A step's gradient is the mean over the images its batches hold, over all ranks: each rank divides its
  // part by that count, so that the sum over ranks and micro-batches is the mean one process would take. An
  // image that fails to decode counts as one with zero gradient.
  const auto images_in_step = [&](int64_t b) {
    int64_t n = 0;
    for (int64_t i = b - b % o.iter_size; i < std::min(batches, b - b % o.iter_size + o.iter_size); ++i)
      n += loader.images_in(i);
    return n;
  };

  Sgd sgd(o.sgd);
  for (const std::string& name : model.parameter_names())
    if (!name.starts_with("classifier.")) sgd.set_lr_mult(name, o.backbone_lr_mult);

  // Run state: everything a checkpoint carries besides parameters and momentum. The tally is this rank's.
  int start_epoch = 0;
  int64_t start_batch = 0, step = 0;
  double best_acc = -1.0;
  Tally tally;
  int best_epoch = -1;
  std::string csv = kCsvHeader;
  if (!o.resume.empty()) {
    Checkpoint c = load_checkpoint(o.resume, model.config().arch, model.config().num_classes);
    // Files do not record dropout: this run's settings hold.
    model = with_dropout(c.model, model.config().dropout, model.config().features_dropout);
    sgd.momentum_buffers() = std::move(c.momentum);
    const auto& s = c.state;
    if (!s.count("seed") || s.at("seed") != std::to_string(o.seed))
      throw Error(o.resume + ": the checkpoint was made with another --seed (" +
                  (s.count("seed") ? s.at("seed") : "none") + "); resume with the same seed");
    start_epoch = static_cast<int>(parse_double(s, "epoch", o.resume));
    // The position is kept in images, so that a run with another number of ranks can take it up.
    const auto batch_images =
        s.count("batch_images") ? static_cast<int64_t>(parse_double(s, "batch_images", o.resume)) : global_batch;
    const int64_t position = static_cast<int64_t>(parse_double(s, "batch", o.resume)) * batch_images;
    if (batch_images < 1 || position % global_batch != 0)
      throw Error(o.resume + ": the checkpoint stopped after " + std::to_string(position) +
                  " images of its epoch, which is not a whole number of this run's global batches of " +
                  std::to_string(global_batch) + " (ranks x --batch-size)");
    start_batch = position / global_batch;
    step = static_cast<int64_t>(parse_double(s, "step", o.resume));
    if (lead) {  // the checkpoint's tally is the sum over the ranks that wrote it
      tally.loss_sum = parse_double(s, "loss_sum", o.resume);
      tally.seen = parse_double(s, "seen", o.resume);
      tally.correct = parse_double(s, "correct", o.resume);
      tally.skipped = parse_double(s, "skipped", o.resume);
    }
    best_acc = parse_double(s, "best_acc", o.resume);
    best_epoch = static_cast<int>(parse_double(s, "best_epoch", o.resume));
    csv = s.count("history") ? s.at("history") : kCsvHeader;
    if (start_epoch < 0 || start_batch < 0 || start_batch > batches || step < 0 || tally.seen < 0)
      throw Error(o.resume + ": the checkpoint's position (epoch " + s.at("epoch") + ", batch " + s.at("batch") +
                  ") does not fit this data's " + std::to_string(batches) + " batches an epoch");
  }
  const std::string preset = preset_name(o.preset);
  // Every rank calls it (the tally is summed over the ranks); rank 0 writes.
  const auto save = [&](int epoch, int64_t batch) {
    const Tally t = tally.over(ranks);
    if (!lead) return;
    save_checkpoint(ckpt_path, model, sgd,
                    {{"epoch", std::to_string(epoch)}, {"batch", std::to_string(batch)},
                     {"batch_images", std::to_string(global_batch)}, {"step", std::to_string(step)},
                     {"seed", std::to_string(o.seed)}, {"loss_sum", exact(t.loss_sum)},
                     {"seen", std::to_string(std::llround(t.seen))}, {"correct", std::to_string(std::llround(t.correct))},
                     {"skipped", std::to_string(std::llround(t.skipped))}, {"best_acc", exact(best_acc)},
                     {"best_epoch", std::to_string(best_epoch)}, {"history", csv}},
                    preset);
  };

  const SigintGuard sigint;
  TrainResult result;
  // The step's gradient is the sum of one per image in the pairwise tree over the images' index in the step
  // (train/pairwise_sum.h). A micro-batch sums its images in that tree, the ranks' sums of one micro-batch are
  // added in the same tree over the ranks, and the micro-batches' sums in the same tree again: so, with a
  // power-of-two batch per rank (and a power-of-two number of ranks when --iter-size is above 1), a step
  // is bit for bit the same whatever the split into ranks and micro-batches (docs/scaling.md).
  Gradients trained = zero_gradients(model, o.classifier_only);
  // Each micro-batch's gradients are summed over the ranks with this rank's vote to stop (SIGINT reaches the
  // ranks at different times) in one buffer: one call per parameter tensor (52) costs a meeting of the ranks
  // each, and on a busy machine every meeting waits for both ranks to be scheduled (docs/scaling.md). With
  // --bucket-mb, its buckets start while backward runs on.
  std::optional<GradientBuckets> buckets;
  if (ranks.size() > 1)
    buckets.emplace(model, trained, ranks, static_cast<std::size_t>(std::llround(o.bucket_mb * 1e6)));
  PairwiseGradients step_grads(std::move(trained));
  Backprop bp(model, o.classifier_only);  // one for the run: its buffers serve every step
  int steps_this_run = 0;
  // SIGINT reaches the ranks at different times: a stop asked on any rank is taken by all at the same step.
  const auto stop_requested = [&] {
    double votes = g_stop ? 1.0 : 0.0;
    ranks.sum(&votes, 1);
    return votes > 0.0;
  };
  bool stop = false;
  for (int epoch = start_epoch; epoch < o.epochs && !result.interrupted; ++epoch) {
    const auto t0 = Clock::now();
    int64_t images_this_run = 0;
    loader.start_epoch(epoch, start_batch);
    double lr = schedule.lr_at(step);
    // Dropout masks, like the augmentation, depend on (seed, epoch, image) only: the same with any batch size.
    const uint64_t dropout_seed = mix_seed(o.seed, static_cast<uint64_t>(epoch), uint64_t{1} << 40);
    for (int64_t b = start_batch; b < batches; ++b) {
      Batch batch = [&] {
        const profile::Scope wait("step", "waiting for the loader");
        return loader.next();
      }();
      for (const std::string& e : batch.errors) std::fprintf(stderr, "\nsqueezenet: skipped: %s\n", e.c_str());
      tally.skipped += static_cast<double>(batch.errors.size());
      result.skipped_images += static_cast<int>(batch.errors.size());
      Gradients& block = step_grads.block();
      if (buckets) buckets->begin(block, g_stop);
      if (!batch.labels.empty()) {
        const Tensor logits = [&] {
          const profile::Scope forward("step", "forward");
          return bp.forward(batch.images, true, dropout_seed, batch.samples);
        }();
        const auto n = static_cast<int64_t>(batch.labels.size());
        const LossResult r =
            cross_entropy_over(logits, batch.labels, o.label_smoothing, static_cast<double>(images_in_step(b)));
        {
          const profile::Scope backward("step", "backward");
          std::optional<ListenToBackward> listen;
          if (buckets) listen.emplace(*buckets);
          bp.backward(r.grad, block);
        }
        tally.loss_sum += r.loss * static_cast<double>(n);
        tally.correct += r.correct;
        tally.seen += static_cast<double>(n);
        images_this_run += n;
      }
      {
        // Every rank sums every micro-batch, an empty slice too (the epoch's last batch may leave a rank none).
        // The time here is what the sum adds to the step: with buckets, what backward did not hide.
        const profile::Scope reduce("step", "allreduce, exposed");
        stop = (buckets ? buckets->finish() : bool{g_stop}) || stop;
      }
      step_grads.push();
      const bool boundary = (b + 1) % o.iter_size == 0 || b + 1 == batches;
      if (boundary) {
        lr = schedule.lr_at(step);
        const profile::Scope update("step", "sgd");
        sgd.step(model, step_grads.sum(), lr);
        step_grads.clear();
        ++step;
        ++steps_this_run;
        if (o.max_steps > 0 && steps_this_run >= o.max_steps) stop = true;
      }
      const double elapsed = seconds_since(t0);
      // Rank 0's figures, its images/s scaled by the ranks.
      const double ips = static_cast<double>(images_this_run * ranks.size()) / std::max(elapsed, 1e-9);
      if (lead && o.progress)
        progress_bar(epoch, o.epochs, b + 1, batches, tally.seen > 0 ? tally.loss() : 0.0,
                     tally.seen > 0 ? tally.acc() : 0.0, ips,
                     elapsed / static_cast<double>(b + 1 - start_batch) * static_cast<double>(batches - b - 1));
      if (lead && o.on_progress)
        o.on_progress({epoch + 1, o.epochs, b + 1, batches, tally.seen > 0 ? tally.loss() : 0.0,
                       tally.seen > 0 ? tally.acc() : 0.0, ips, lr});
      if (boundary && stop && b + 1 < batches) {
        save(epoch, b + 1);
        result.interrupted = true;
        break;
      }
    }
    if (result.interrupted) break;
    start_batch = 0;
    const double train_seconds = seconds_since(t0);
    if (lead) profile::report(images_this_run);
    const Tally train_tally = tally.over(ranks), val = evaluate(model, val_loader).over(ranks);
    double images = static_cast<double>(images_this_run);
    ranks.sum(&images, 1);
    EpochMetrics m{train_tally.loss(),
                   train_tally.acc(),
                   val.seen > 0 ? val.loss() : 0.0,
                   val.seen > 0 ? val.acc() : 0.0,
                   lr,
                   train_seconds,
                   images / std::max(train_seconds, 1e-9),
                   static_cast<int>(std::llround(train_tally.skipped + val.skipped))};
    csv += csv_line(epoch + 1, m);
    const bool best = m.val_acc > best_acc;
    if (best) best_acc = m.val_acc, best_epoch = epoch + 1;
    if (lead) {
      if (o.progress) std::fprintf(stderr, "\n");
      std::fprintf(stderr,
                   "epoch %d/%d: train loss %.4f acc %.2f%% | val loss %.4f acc %.2f%% | %.1f s, %.1f img/s\n",
                   epoch + 1, o.epochs, m.train_loss, 100 * m.train_acc, m.val_loss, 100 * m.val_acc, m.seconds,
                   m.images_per_s);
      if (o.on_progress)
        o.on_progress({epoch + 1, o.epochs, batches, batches, m.train_loss, m.train_acc, m.images_per_s, lr, true,
                       m.val_loss, m.val_acc});
      write_file_atomic(csv_path, csv);
      write_png(plot_curves(curves_of(csv)), plot_path);
      if (best) {
        WeightFile wf = model.to_weights(preset);
        wf.metadata["source"] = "squeezenet train, epoch " + std::to_string(epoch + 1);
        save_weights(wf, best_path, Format::safetensors);
      }
    }
    tally = Tally{};
    save(epoch + 1, 0);
    if (stop_requested() || stop) result.interrupted = epoch + 1 < o.epochs;
  }
  result.best_val_acc = best_acc;
  result.best_epoch = best_epoch;
  return result;
}

}  // namespace squeezenet::train
