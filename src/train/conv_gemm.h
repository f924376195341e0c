#pragma once
// Conv2d forward and backward as matrix products over im2col columns, one image at a time (a 1x1 stride-1
// conv uses the image itself as its columns). The training path's fast convolution.
#include "squeezenet/tensor.h"

namespace squeezenet::train {

// y = conv(x, weight) + bias, no activation: [N, O, OH, OW].
Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride, int padding);

// Adds this batch's weight and bias gradients into `weight_grad` and `bias_grad`; returns the input gradient
// when asked (else an empty tensor).
Tensor conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& dy, int stride, int padding,
                       Tensor& weight_grad, Tensor& bias_grad, bool need_input_grad);

}  // namespace squeezenet::train
