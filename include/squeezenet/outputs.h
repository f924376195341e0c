#pragma once
// Turning logits into answers.
#include <vector>

#include "squeezenet/export.h"
#include "squeezenet/tensor.h"

namespace squeezenet SQUEEZENET_API {

// Row-wise softmax of [N, K] logits.
Tensor softmax(const Tensor& logits);

struct Prediction {
  int index;
  float score;
};
// The k largest entries of one row, largest first (ties: lower index first, as torch.topk on CPU does).
std::vector<Prediction> top_k(const float* row, int n, int k);

}  // namespace squeezenet
