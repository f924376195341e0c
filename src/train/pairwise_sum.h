#pragma once
// Sums whose rounding does not depend on how the terms were split up. A step's gradient is the sum of one
// gradient per image; summed left to right, 8 images in one batch and two batches of 4 added afterwards round
// differently. Summed in the aligned pairwise tree over the images' index in the step (pairs (0,1), (2,3), ...,
// then pairs of pairs), any aligned block of a power-of-two number of images is a subtree: its sum, computed
// alone on one rank or in one micro-batch, is bit for bit the partial sum the whole batch computes, and adding
// the blocks' sums in the same tree gives the whole batch's sum exactly.
#include <cstdint>
#include <span>
#include <vector>

#include "squeezenet/train.h"

namespace squeezenet::train {

// parts[0][begin, end) becomes the sum of parts[0..n)[begin, end) in the aligned pairwise tree over the parts'
// index; the other parts are overwritten with partial sums.
void pairwise_sum(std::span<float* const> parts, int64_t begin, int64_t end);

// The same tree over a stream of gradients given one after another (the blocks of a step: micro-batches, or the
// ranks' sums of each), holding one gradient per level of the tree, not one per block.
class PairwiseGradients {
 public:
  explicit PairwiseGradients(Gradients zero) : zero_(std::move(zero)) {}
  // The next block's gradient: zeroed when first asked for, then the same buffer until push().
  Gradients& block();
  // Takes the block as the stream's next term.
  void push();
  // The sum of the blocks pushed since the last clear(), in the tree; valid until clear().
  Gradients& sum();
  void clear();

 private:
  struct Node {
    int level;  // the node sums 2^level blocks, except the last, partial ones that sum() folds
    Gradients g;
  };
  Gradients zero_;
  std::vector<Node> nodes_;      // the tree's open nodes, lowest index first
  std::vector<Gradients> free_;  // buffers to reuse
  Gradients pending_;
  bool has_pending_ = false;
};

}  // namespace squeezenet::train
