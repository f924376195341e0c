// `squeezenet train` (from scratch) and `squeezenet finetune` (from pretrained weights, optionally a new head):
// SGD on a labelled image folder with evaluation after every epoch, checkpoints and --resume. Started by
// mpirun, every process is a rank of one data-parallel run.
#include <omp.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "squeezenet/error.h"
#include "train/trainer.h"
#ifdef SQUEEZENET_WITH_MPI
#include "train/distributed_mpi.h"
#endif

namespace squeezenet::cli {

namespace {
struct Opts {
  train::TrainOptions run;
  std::string data, policy = "fixed", preset, arch = "squeezenet1_1", weights, freeze = "none";
  double lr = 0.01;
  float dropout = 0.5f, features_dropout = 0.0f;
  int classes = 0, threads = 0;
  bool quiet = false;
};

void add_common(CLI::App* cmd, Opts& o) {
  cmd->add_option("--data", o.data, "Folder with train/ and val/ image folders (one subfolder per class)");
  cmd->add_option("--train", o.run.train_dir, "Training image folder (instead of --data)");
  cmd->add_option("--val", o.run.val_dir, "Validation image folder (instead of --data)");
  cmd->add_option("--out", o.run.out_dir, "Output folder: checkpoint, best weights, metrics.csv, curves.png")
      ->required();
  cmd->add_option("--epochs", o.run.epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch-size", o.run.batch_size, "Images per batch")->capture_default_str();
  cmd->add_option("--iter-size", o.run.iter_size, "Batches accumulated per SGD step (Caffe's iter_size)")
      ->capture_default_str();
  cmd->add_option("--lr", o.lr, "Base learning rate")->capture_default_str();
  cmd->add_option("--momentum", o.run.sgd.momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--dampening", o.run.sgd.dampening, "SGD dampening")->capture_default_str();
  cmd->add_option("--weight-decay", o.run.sgd.weight_decay, "L2 weight decay")->capture_default_str();
  cmd->add_flag("--nesterov", o.run.sgd.nesterov, "Nesterov momentum");
  cmd->add_option("--lr-policy", o.policy, "fixed, poly (Caffe), step or cosine")->capture_default_str();
  cmd->add_option("--power", o.run.schedule.power, "poly: exponent")->capture_default_str();
  cmd->add_option("--gamma", o.run.schedule.gamma, "step: factor per step")->capture_default_str();
  cmd->add_option("--step-epochs", o.run.step_epochs, "step: epochs between decays")->capture_default_str();
  cmd->add_option("--warmup-epochs", o.run.warmup_epochs, "Linear warm-up length")->capture_default_str();
  cmd->add_option("--label-smoothing", o.run.label_smoothing, "Cross-entropy label smoothing")->capture_default_str();
  cmd->add_option("--preset", o.preset, "Preprocessing: torchvision, caffe or tflite (default: the weights')");
  cmd->add_option("--seed", o.run.seed, "Seed of initialisation, shuffling, augmentation and dropout")
      ->capture_default_str();
  cmd->add_option("--workers", o.run.workers, "Image decoding threads")->capture_default_str();
  cmd->add_option("--threads", o.threads, "Compute threads (0: one per core)");
  cmd->add_option("--resume", o.run.resume, "Continue from a checkpoint written by an earlier run");
  cmd->add_option("--max-steps", o.run.max_steps, "Stop after this many SGD steps, with a checkpoint");
  cmd->add_option("--features-dropout", o.features_dropout,
                  "Dropout probability at the end of `features` (the SqueezeNet article's variant; 0: none)")
      ->capture_default_str();
  cmd->add_option("--bucket-mb", o.run.bucket_mb,
                  "Over MPI: sum the gradients over the ranks in buckets of this many MB, each started while "
                  "backward still runs for the earlier layers (0: one sum after backward)")
      ->capture_default_str();
  cmd->add_flag("--quiet", o.quiet, "No progress bar");
}

// Returns whether the run stopped before its last epoch.
bool train_run(Opts& o, bool finetune) {
  if (!o.data.empty()) {
    if (o.run.train_dir.empty()) o.run.train_dir = o.data + "/train";
    if (o.run.val_dir.empty()) o.run.val_dir = o.data + "/val";
  }
  if (o.run.train_dir.empty() || o.run.val_dir.empty()) throw Error("give --data, or both --train and --val");
  if (o.threads > 0) omp_set_num_threads(o.threads);
  o.run.schedule.policy = parse_lr_policy(o.policy);
  o.run.schedule.base_lr = o.lr;
  o.run.progress = !o.quiet;
  const int data_classes = static_cast<int>(scan_labelled_folder(o.run.train_dir).class_names.size());
  const int classes = o.classes > 0 ? o.classes : data_classes;

  Model model;
  Preset preset = Preset::torchvision;
  if (finetune) {
    model = train::pretrained_for_finetune(o.weights, classes, o.run.seed, preset);
    if (o.freeze != "none" && o.freeze != "features")
      throw Error("--freeze takes 'features' or 'none', not " + quote_input(o.freeze));
    o.run.classifier_only = o.freeze == "features";
  } else {
    model = Model(ModelConfig{parse_arch(o.arch), classes, o.dropout}, o.run.seed);
  }
  model = with_dropout(model, model.config().dropout, o.features_dropout);
  o.run.preset = o.preset.empty() ? preset : parse_preset(o.preset);
  const train::TrainResult r = train::train(model, o.run);
  if (o.run.ranks && o.run.ranks->rank() != 0) return r.interrupted;
  std::printf("best validation accuracy %.2f%% (epoch %d); weights in %s/best.safetensors\n", 100.0 * r.best_val_acc,
              r.best_epoch, o.run.out_dir.c_str());
  if (r.skipped_images > 0) std::printf("%d images could not be read and were skipped\n", r.skipped_images);
  if (r.interrupted)
    std::printf("stopped early; continue with --resume %s/checkpoint.safetensors\n", o.run.out_dir.c_str());
  return r.interrupted;
}

void run(Opts& o, bool finetune) {
  bool interrupted = false;
#ifdef SQUEEZENET_WITH_MPI
  std::unique_ptr<train::MpiCommunicator> mpi = train::MpiCommunicator::if_launched();
  o.run.ranks = mpi.get();
  try {
    interrupted = train_run(o, finetune);
  } catch (const std::exception& e) {
    if (!mpi || mpi->size() == 1) throw;
    // The other ranks wait for this one in their next sum: end them all, after saying why.
    std::fprintf(stderr, "squeezenet: error: rank %d of %d: %s\n", mpi->rank(), mpi->size(),
                 printable(e.what(), kMessageBytes).c_str());
    mpi->abort(1);
  }
  mpi.reset();  // MPI_Finalize, before exit() can skip it
#else
  interrupted = train_run(o, finetune);
#endif
  if (interrupted) {
    std::fflush(stdout);
    std::exit(130);
  }
}
}  // namespace

void register_train(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("train", "Train a SqueezeNet from scratch (torchvision initialisation)");
  add_common(cmd, *o);
  cmd->add_option("--arch", o->arch, "squeezenet1_0 or squeezenet1_1")->capture_default_str();
  cmd->add_option("--classes", o->classes, "Outputs (default: the number of class folders)");
  cmd->add_option("--dropout", o->dropout, "Dropout probability before the classifier")->capture_default_str();
  cmd->callback([o] { run(*o, false); });
}

void register_finetune(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  o->lr = 0.001;
  o->run.sgd.momentum = 0.9;
  CLI::App* cmd = app.add_subcommand("finetune", "Fine-tune pretrained weights on a labelled image folder");
  add_common(cmd, *o);
  cmd->add_option("--weights", o->weights, "Pretrained weights (any format `info` reads)")->required();
  cmd->add_option("--classes", o->classes,
                  "Outputs; differing from the weights' replaces the final conv by a new one (N(0, 0.01), bias 0)");
  cmd->add_option("--freeze", o->freeze, "'features': train only the final conv; 'none': every layer")
      ->capture_default_str();
  cmd->add_option("--backbone-lr-mult", o->run.backbone_lr_mult, "Learning-rate multiplier of all but the final conv")
      ->capture_default_str();
  cmd->callback([o] { run(*o, true); });
}

}  // namespace squeezenet::cli
