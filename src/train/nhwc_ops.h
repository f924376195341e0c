#pragma once
// The memory-bound steps of the NHWC training backward. The first three are plain loops over contiguous
// channels (nhwc_loops_impl.h) that the compiler vectorises, built for the widest ISA here as the tiles are.
#include <cstdint>

#include "train/grad_kernels.h"

namespace squeezenet::train {

// dx += the gradient of MaxPool2d(3, 2, ceil_mode=True) of x [h][w][c], from dy [oh][ow][c]: each output's
// gradient goes to the first maximum of its window in row-major order (a NaN takes over), as in PyTorch.
void max_pool_backward(const float* x, int h, int w, int c, const float* dy, float* dx);

// out[j] = sum over the h x w pixels of g(y, x)[j], for j < n, in pixel order.
void channel_sums(int h, int w, PixelMap<const float> g, int n, float* out);

// ReLU's backward from its output y: dx(y, x)[j] = y(y, x)[j] > 0 ? dy(y, x)[j] : 0 for j < n (dx may be dy).
void relu_backward(int h, int w, PixelMap<const float> y, PixelMap<const float> dy, PixelMap<float> dx, int n);

// Zeroes the one-pixel border of a [h + 2][w + 2][c] frame.
void zero_border(float* frame, int h, int w, int c);

// One image between layouts: [c][h][w] <-> [h][w][c].
void nchw_to_nhwc(const float* in, int c, int h, int w, float* out);
void nhwc_to_nchw(const float* in, int h, int w, int c, float* out);

}  // namespace squeezenet::train
