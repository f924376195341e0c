#pragma once
// Retraining after pruning (masked fine-tuning) and after weight sharing (centroid fine-tuning). The loss is
// distillation from a teacher's outputs (the uncompressed model, or any model of the same architecture), so that
// any images of the user's domain serve, mixed with cross-entropy on the labels where the images have them.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "squeezenet/dataset.h"
#include "squeezenet/image.h"
#include "squeezenet/model.h"
#include "squeezenet/weights.h"

namespace squeezenet {

// The tuning images, decoded once, with the teacher's logits: every epoch sees the same batches, and neither
// the decoding nor the teacher's forward is paid again (images are held in memory, 0.6 MB each).
struct TuningSet {
  std::vector<Tensor> images, teacher;       // per batch: [n, 3, S, S] and [n, classes]
  std::vector<std::vector<int>> labels;      // per batch; empty when the images have no labels
  int64_t count = 0;
};

// The images of `dir` for tuning: a labelled folder as scan_labelled_folder reads it, or else (a flat folder
// whose image names are not wnids) every image with label -1, to be distilled only.
LabelledFolder scan_tuning_folder(const std::string& dir);

// Labels are used when `labelled` and every label is one of the teacher's classes. An image that does not
// decode is an error naming it.
TuningSet make_tuning_set(const Model& teacher, const std::vector<LabelledImage>& images, bool labelled,
                          int batch_size, Preset preset);

// The tuning images drawn anew every epoch, so that a few hundred images do not get learnt by heart: each one a
// RandomResizedCrop + horizontal flip fixed by (seed, epoch, image), decoded on the loader's worker threads while
// the previous batch trains, in an order shuffled per epoch. The teacher's logits are computed on the same crops
// (teacher and student see one input), and no batch is held once it has trained. The teacher must outlive it.
struct AugmentedTuning {
  LabelledFolder folder;
  const Model* teacher = nullptr;
  bool labelled = false;  // as for make_tuning_set
  int batch_size = 25;
  Preset preset = Preset::torchvision;
  uint64_t seed = 0;
};

AugmentedTuning make_augmented_tuning(const Model& teacher, const std::vector<LabelledImage>& images, bool labelled,
                                      int batch_size, Preset preset, uint64_t seed);

// What retraining trains on: a fixed set, or augmented crops. Either converts to it, so callers pass the set.
struct TuningData {
  const TuningSet* fixed = nullptr;
  const AugmentedTuning* augmented = nullptr;
  TuningData(const TuningSet& set) : fixed(&set) {}
  TuningData(const AugmentedTuning& set) : augmented(&set) {}
};

struct RetrainOptions {
  int epochs = 2;
  int first_epoch = 0;        // the augmentation's epoch number of the first epoch, so a later stage sees new crops
  double lr = 1e-4;           // Adam, for the trained weights (or centroids) and the biases
  double temperature = 1.0;   // of the distillation softmax; its loss is scaled by T^2 (Hinton et al.)
  double label_weight = 0.5;  // share of the cross-entropy in the loss where there are labels
};

// `progress` gets (epoch, mean loss over the epoch) after each epoch.
using RetrainProgress = std::function<void(int, double)>;

// Masked fine-tuning: every non-zero weight of every conv, and every bias, trains; zeros (pruned weights)
// stay exactly zero and no surviving weight becomes zero. Call it before sharing: it drops the codebooks.
void tune_weights(WeightFile& student, const TuningData& data, const RetrainOptions& options,
                  const RetrainProgress& progress);

// Lets codes change during centroid fine-tuning (quantization-aware training with a learned codebook): every
// non-zero weight keeps a float shadow, which follows its centroid's moves and, by Adam at `lr` on its own
// gradient (straight through the rounding), drifts from it; every `every` steps the shadows are re-assigned to
// their cheapest centroids and the centroids re-estimated as their members' means (reassign_codes).
struct CodeTuning {
  const WeightFile* shadow = nullptr;  // the float weights before sharing (pruned alike)
  int every = 0;                       // steps between re-assignments; 0: codes never change
  double lr = 1e-5;
  std::map<std::string, double> entropy_weight;  // per conv, as for sharing; absent: plain nearest centroid
};

// Centroid fine-tuning: the codebook entries of every shared layer of `student` (those in student.codebooks)
// move by Adam on the sum of the gradients of the weights that use them, the biases by theirs. Without
// `codes` (or with codes->every = 0) codes never change, so every layer keeps its number of distinct values;
// with it they may, and entries left unused are dropped at the end. Pruned weights stay exactly zero either way.
void tune_centroids(WeightFile& student, const TuningData& data, const RetrainOptions& options,
                    const RetrainProgress& progress, const CodeTuning* codes = nullptr);

}  // namespace squeezenet
