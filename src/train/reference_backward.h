#pragma once
// Backward of every layer SqueezeNet has, as plain loops: the definition the fast path is tested against and
// the oracle of the finite-difference checks. Each takes what its forward saw and the gradient of its output.
#include "squeezenet/tensor.h"

namespace squeezenet::ref {

struct ConvGrads {
  Tensor input, weight, bias;  // input is empty unless asked for
};
// Conv2d(stride, padding) with input x [N, C, H, W], weight [O, C, K, K]; dy [N, O, OH, OW].
ConvGrads conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, int stride, int padding,
                          bool need_input_grad);

// ReLU from its output y: dx = dy where y > 0 (the same set as x > 0), else 0.
Tensor relu_backward(const Tensor& y, const Tensor& dy);

// MaxPool2d(kernel, stride, ceil_mode=True) from its input x: each output's gradient goes to the first maximum of
// its window in row-major order, the element PyTorch's kernel records (ties, common after a ReLU, matter).
Tensor max_pool2d_ceil_backward(const Tensor& x, const Tensor& dy, int kernel, int stride);

// AdaptiveAvgPool2d(1) + flatten: dy [N, C] spread evenly over the [N, C, H, W] input.
Tensor global_avg_pool_backward(const Shape& input_shape, const Tensor& dy);

// Splits the gradient of a channel concatenation back into its two parts of `channels_a` and the rest.
std::pair<Tensor, Tensor> split_channels(const Tensor& dy, int64_t channels_a);

}  // namespace squeezenet::ref
