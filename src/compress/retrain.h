#pragma once
// Retraining after weight sharing: centroid fine-tuning, distilled from the uncompressed model's outputs so
// that any images of the user's domain serve, labelled or not.
#include <functional>
#include <vector>

#include "squeezenet/dataset.h"
#include "squeezenet/image.h"
#include "squeezenet/model.h"
#include "squeezenet/weights.h"

namespace squeezenet {

struct RetrainOptions {
  int epochs = 2;
  int batch_size = 25;
  double lr = 1e-4;  // for the centroids, whose gradient sums many weights', and the biases
  double momentum = 0.9;
  Preset preset = Preset::torchvision;
};

// Moves the codebook entries of every shared layer of `student` (those in student.codebooks) by the sum of the
// gradients of the weights that use them, and the biases by theirs, to match `teacher`'s softmax on `images`
// (KL divergence). Codes never change, so pruned weights stay exactly zero and every layer keeps its number of
// distinct values. `progress` gets (epoch, mean loss) after each epoch.
void tune_centroids(WeightFile& student, const Model& teacher, const std::vector<LabelledImage>& images,
                    const RetrainOptions& options, const std::function<void(int, double)>& progress);

}  // namespace squeezenet
