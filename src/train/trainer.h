#pragma once
// A whole training run: epochs over a labelled folder, evaluation on a validation folder after each, metrics
// CSV and curve plot, best weights kept, checkpoints that resume exactly, SIGINT honoured between steps.
// Data-parallel over the ranks of a Communicator: each rank trains on its slice of every global batch and the
// gradients are summed before each step, so N ranks with batch B take the steps one process with batch N·B
// (or with batch B and iter_size N) takes. Rank 0 alone writes files and shows progress.
#include <cstdint>
#include <functional>
#include <string>

#include "squeezenet/dataset.h"
#include "squeezenet/image.h"
#include "squeezenet/train.h"
#include "train/distributed.h"

namespace squeezenet::train {

// Where a run stands: after every batch (epoch_done false: running averages over the epoch so far) and after
// every epoch's evaluation (epoch_done true: the epoch's figures and the validation ones).
struct TrainProgress {
  int epoch = 0, epochs = 0;  // epoch counts from 1
  int64_t batch = 0, batches = 0;
  double loss = 0.0, acc = 0.0, images_per_s = 0.0, lr = 0.0;
  bool epoch_done = false;
  double val_loss = 0.0, val_acc = 0.0;
};

struct TrainOptions {
  std::string train_dir, val_dir, out_dir;  // out_dir gets checkpoint, best weights, metrics.csv, curves.png
  std::string resume;                       // a checkpoint to continue from
  int epochs = 10, batch_size = 32, iter_size = 1, workers = 2;  // batch_size: per rank
  SgdOptions sgd;
  LrSchedule schedule;  // total_steps, step_size and warmup_steps are filled in from the epochs below
  double warmup_epochs = 0.0, step_epochs = 1.0;
  float label_smoothing = 0.0f;
  Preset preset = Preset::torchvision;
  uint64_t seed = 0;
  bool classifier_only = false;   // feature extraction: only the final conv learns
  double backbone_lr_mult = 1.0;  // learning-rate multiplier of everything but the final conv
  bool progress = true;  // the progress bar on stderr
  // Called with every TrainProgress, for front ends that show progress their own way. What it throws ends the
  // run (without a checkpoint of the epoch in progress) and reaches train()'s caller.
  std::function<void(const TrainProgress&)> on_progress;
  int max_steps = 0;  // > 0: stop (with a checkpoint) after this many optimiser steps, as SIGINT would
  Communicator* ranks = nullptr;  // the ranks of a data-parallel run; null: this process alone
  // Over several ranks, a micro-batch's gradients are summed in buckets of this many MB (10^6 bytes), each
  // started as soon as backward has finished its layers; 0: one sum after backward.
  double bucket_mb = 1.0;
};

struct TrainResult {
  double best_val_acc = 0.0;
  int best_epoch = -1;
  bool interrupted = false;
  int skipped_images = 0;
};

// The checks a run makes on its folders before it starts: an ImageFolder needs at least two classes, an image
// in every class, and the same classes in the validation folder; the model's outputs must match.
void check_datasets(const LabelledFolder& train, const LabelledFolder& val, int num_classes, const std::string& train_dir,
                    const std::string& val_dir);

// Pretrained weights ready to fine-tune on `classes` outputs: the file's model, with a new final conv
// (with_new_classifier, from `seed`) when its own has another number of outputs. `preset` gets the preset the
// weights were trained with (their metadata's, else torchvision).
Model pretrained_for_finetune(const std::string& weights, int classes, uint64_t seed, Preset& preset);

// Trains `model` in place (the last epoch's parameters; the best ones are in out_dir/best.safetensors).
TrainResult train(Model& model, const TrainOptions& options);

// Set by the SIGINT handler that train() installs; the run stops after the step in progress.
void request_stop();

}  // namespace squeezenet::train
