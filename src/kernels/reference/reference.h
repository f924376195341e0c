#pragma once
// Plain loops, written for reading, not speed. They define what every fast kernel must compute and stay as
// the portable fallback and the oracle of the kernel tests.
#include "squeezenet/tensor.h"

namespace squeezenet::ref {

// x [N, C, H, W], weight [O, C, K, K], bias [O] -> [N, O, OH, OW]; zero padding on all sides.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride, int padding);
void relu_(Tensor& x);
// MaxPool2d(kernel, stride, padding 0) with PyTorch's ceil_mode=True windows clipped at the border.
Tensor max_pool2d_ceil(const Tensor& x, int kernel, int stride);
// Concatenation along channels of two [N, *, H, W] tensors.
Tensor concat_channels(const Tensor& a, const Tensor& b);
// AdaptiveAvgPool2d(1) + flatten: [N, C, H, W] -> [N, C].
Tensor global_avg_pool(const Tensor& x);
// Row-wise softmax of [N, K], max-subtracted so large logits do not overflow.
Tensor softmax(const Tensor& logits);

}  // namespace squeezenet::ref
