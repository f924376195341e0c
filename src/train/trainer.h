#pragma once
// A whole training run: epochs over a labelled folder, evaluation on a validation folder after each, metrics
// CSV and curve plot, best weights kept, checkpoints that resume exactly, SIGINT honoured between steps.
#include <string>

#include "squeezenet/dataset.h"
#include "squeezenet/image.h"
#include "squeezenet/train.h"

namespace squeezenet::train {

struct TrainOptions {
  std::string train_dir, val_dir, out_dir;  // out_dir gets checkpoint, best weights, metrics.csv, curves.png
  std::string resume;                       // a checkpoint to continue from
  int epochs = 10, batch_size = 32, iter_size = 1, workers = 2;
  SgdOptions sgd;
  LrSchedule schedule;  // total_steps, step_size and warmup_steps are filled in from the epochs below
  double warmup_epochs = 0.0, step_epochs = 1.0;
  float label_smoothing = 0.0f;
  Preset preset = Preset::torchvision;
  uint64_t seed = 0;
  bool classifier_only = false;   // feature extraction: only the final conv learns
  double backbone_lr_mult = 1.0;  // learning-rate multiplier of everything but the final conv
  bool progress = true;
  int max_steps = 0;  // > 0: stop (with a checkpoint) after this many optimiser steps, as SIGINT would
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

// Trains `model` in place (the last epoch's parameters; the best ones are in out_dir/best.safetensors).
TrainResult train(Model& model, const TrainOptions& options);

// Set by the SIGINT handler that train() installs; the run stops after the step in progress.
void request_stop();

}  // namespace squeezenet::train
