#include "squeezenet/outputs.h"

#include <algorithm>
#include <numeric>

#include "kernels/reference/reference.h"

namespace squeezenet {

Tensor softmax(const Tensor& logits) { return ref::softmax(logits); }

std::vector<Prediction> top_k(const float* row, int n, int k) {
  std::vector<int> idx(static_cast<std::size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  k = std::clamp(k, 0, n);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int a, int b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
  std::vector<Prediction> out;
  for (int i = 0; i < k; ++i) out.push_back({idx[static_cast<std::size_t>(i)], row[idx[static_cast<std::size_t>(i)]]});
  return out;
}

}  // namespace squeezenet
