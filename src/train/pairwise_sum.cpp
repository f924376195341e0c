#include "train/pairwise_sum.h"

#include <algorithm>

namespace squeezenet::train {
namespace {

void add_into(Gradients& sum, const Gradients& g) {
  for (auto& [name, s] : sum) {
    float* to = s.data();
    const float* from = g.at(name).data();
    // A structured binding cannot be named inside an OpenMP construct (clang rejects it): take the count first.
    const int64_t n = s.numel();
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) to[i] += from[i];
  }
}

}  // namespace

void pairwise_sum(std::span<float* const> parts, int64_t begin, int64_t end) {
  const std::size_t n = parts.size();
  for (std::size_t s = 1; s < n; s *= 2)
    for (std::size_t j = 0; j + s < n; j += 2 * s) {
      float* to = parts[j];
      const float* from = parts[j + s];
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) to[i] += from[i];
    }
}

Gradients& PairwiseGradients::block() {
  if (has_pending_) return pending_;
  if (free_.empty()) {
    pending_ = zero_;
  } else {
    pending_ = std::move(free_.back());
    free_.pop_back();
    for (auto& [name, g] : pending_) std::fill_n(g.data(), g.numel(), 0.0f);
  }
  has_pending_ = true;
  return pending_;
}

void PairwiseGradients::push() {
  block();
  nodes_.push_back({0, std::move(pending_)});
  has_pending_ = false;
  // Two open nodes of one level are siblings: they become their parent, one level up.
  while (nodes_.size() >= 2 && nodes_[nodes_.size() - 2].level == nodes_.back().level) {
    Node& left = nodes_[nodes_.size() - 2];
    add_into(left.g, nodes_.back().g);
    ++left.level;
    free_.push_back(std::move(nodes_.back().g));
    nodes_.pop_back();
  }
}

Gradients& PairwiseGradients::sum() {
  if (nodes_.empty()) push();
  // The open nodes cover consecutive blocks, largest first: the tree joins the last ones first.
  while (nodes_.size() >= 2) {
    add_into(nodes_[nodes_.size() - 2].g, nodes_.back().g);
    free_.push_back(std::move(nodes_.back().g));
    nodes_.pop_back();
  }
  return nodes_.front().g;
}

void PairwiseGradients::clear() {
  for (Node& node : nodes_) free_.push_back(std::move(node.g));
  nodes_.clear();
}

}  // namespace squeezenet::train
