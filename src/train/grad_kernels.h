#pragma once
// The two products of a convolution's backward on NHWC maps (channels contiguous, pixels and rows at any
// stride), with no im2col: the weight gradient as a sum over output pixels of outer products, and the input
// gradient as an implicit-GEMM convolution of the output gradient. AVX-512 or AVX2+FMA register tiles chosen
// at run time (SQUEEZENET_ISA=avx2 holds an AVX-512 machine to AVX2), plain loops elsewhere. Every output
// value is summed in one fixed order, so a result does not depend on which thread computed it.
#include <cstdint>
#include <vector>

#include "squeezenet/tensor.h"

namespace squeezenet::train {

// Pixel (y, x) of a map: its channels start at data + y * row + x * pixel.
template <class T>
struct PixelMap {
  T* data = nullptr;
  int64_t row = 0, pixel = 0;
  T* at(int64_t y, int64_t x) const { return data + y * row + x * pixel; }
};

// c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + sum over the h x w pixels of a(y, x)[i] * b(y, x)[j],
// for i < m, j < n. With a = the conv input under a kernel row and b = the output gradient, c is that kernel
// row's weight gradient, (kernel column, input channel) x output channel.
void weight_grad(int h, int w, PixelMap<const float> a, int m, PixelMap<const float> b, int n, float* c, int64_t ldc,
                 bool accumulate);

// A [k, n] right-hand side of input_grad, in blocks of `width` (16, 32, 48 or 64) columns, each [k][width] and
// zero-padded past n.
struct Panels {
  int k = 0, n = 0, width = 0;
  std::vector<float, AlignedAllocator<float>> data;
  Panels() = default;
  Panels(int rows, int cols);  // zeros
  std::size_t index(int row, int col) const {
    return static_cast<std::size_t>((col / width * int64_t{k} + row) * width + col % width);
  }
  float& at(int row, int col) { return data[index(row, col)]; }
  float at(int row, int col) const { return data[index(row, col)]; }
};

// The reduction of input_grad: `rows` runs of `run` consecutive input floats, `row_stride` apart (the kernel rows
// of a conv over a map whose zero border is in memory); b's rows follow the same order.
struct Reduction {
  int rows = 1;
  int64_t row_stride = 0;
  int run = 0;
};

// out(y, x)[j] = (accumulate ? out(y, x)[j] : 0) + sum_{s < rows, i < run} in(y, x)[s * row_stride + i] *
// b[s * run + i][j], for j < b.n over the h x w pixels.
void input_grad(int h, int w, PixelMap<const float> in, Reduction r, const Panels& b, PixelMap<float> out,
                bool accumulate);

// The same two products as plain loops: the definition the tiles are tested against.
void reference_weight_grad(int h, int w, PixelMap<const float> a, int m, PixelMap<const float> b, int n, float* c,
                           int64_t ldc, bool accumulate);
void reference_input_grad(int h, int w, PixelMap<const float> in, Reduction r, const Panels& b, PixelMap<float> out,
                          bool accumulate);

}  // namespace squeezenet::train
