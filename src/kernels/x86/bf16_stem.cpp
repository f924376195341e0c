#include <string>

#include "kernels/x86/bf16.h"
#include "kernels/x86/stem_windows.h"
#include "squeezenet/error.h"

namespace squeezenet::bf16 {

Tensor stem_weight(const Tensor& weight) {
  using x86::stem_windows::kImageChannels, x86::stem_windows::kMaxKernel;
  const int K = static_cast<int>(weight.dim(-1)), O = static_cast<int>(weight.dim(0));
  if (weight.ndim() != 4 || weight.dim(1) != kImageChannels || weight.dim(2) != K || K > kMaxKernel)
    throw Error("stem weight " + shape_str(weight.shape()) + ": the window layout needs [O, 3, K, K], K up to " +
                std::to_string(kMaxKernel));
  Tensor w({O, int64_t{K} * K * kImageChannels, 1, 1});
  x86::stem_windows::reorder_weights(weight.data(), O, K, w.data());
  return w;
}

void stack_windows(const float* image, int64_t width, int kernel, int stride, float* out, int64_t out_row,
                   int64_t first_row, int64_t last_row) {
  x86::stem_windows::stack_rows<3, 3>(image, width, kernel, stride, out, out_row, first_row, last_row);
}

}  // namespace squeezenet::bf16
