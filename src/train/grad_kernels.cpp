#include "train/grad_kernels.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "kernels/dispatch.h"
#include "train/grad_kernels_isa.h"

namespace squeezenet::train {
namespace {

using WeightGradFn = void (*)(int, int, PixelMap<const float>, int, PixelMap<const float>, int, float*, int64_t, bool);
using InputGradFn = void (*)(int, int, PixelMap<const float>, Reduction, const Panels&, PixelMap<float>, bool);

struct Kernels {
  WeightGradFn weight_grad;
  InputGradFn input_grad;
};

const Kernels& kernels() {
  static const Kernels k = [] {
    switch (grad_isa()) {
      case GradIsa::avx512: return Kernels{avx512::weight_grad_tiles, avx512::input_grad_tiles};
      case GradIsa::avx2: return Kernels{avx2::weight_grad_tiles, avx2::input_grad_tiles};
      default: return Kernels{reference_weight_grad, reference_input_grad};
    }
  }();
  return k;
}

}  // namespace

GradIsa grad_isa() {
  static const GradIsa isa = [] {
    const char* cap = std::getenv("SQUEEZENET_ISA");
    if (kernels::has_avx512() && !(cap && std::string_view(cap) == "avx2")) return GradIsa::avx512;
    return kernels::has_avx2_fma() ? GradIsa::avx2 : GradIsa::baseline;
  }();
  return isa;
}

Panels::Panels(int rows, int cols)
    : k(rows), n(cols), width(cols >= 64 ? 64 : std::max(16, (cols + 15) / 16 * 16)),
      data(static_cast<std::size_t>((cols + width - 1) / width) * rows * width, 0.0f) {}

void weight_grad(int h, int w, PixelMap<const float> a, int m, PixelMap<const float> b, int n, float* c, int64_t ldc,
                 bool accumulate) {
  if (h <= 0 || w <= 0 || m <= 0 || n <= 0) {
    if (!accumulate)
      for (int i = 0; i < m; ++i) std::fill_n(c + i * ldc, std::max(n, 0), 0.0f);
    return;
  }
  kernels().weight_grad(h, w, a, m, b, n, c, ldc, accumulate);
}

void input_grad(int h, int w, PixelMap<const float> in, Reduction r, const Panels& b, PixelMap<float> out,
                bool accumulate) {
  if (h <= 0 || w <= 0 || b.n <= 0) return;
  kernels().input_grad(h, w, in, r, b, out, accumulate);
}

void reference_weight_grad(int h, int w, PixelMap<const float> a, int m, PixelMap<const float> b, int n, float* c,
                           int64_t ldc, bool accumulate) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float s = 0.0f;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) s += a.at(y, x)[i] * b.at(y, x)[j];
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
    }
}

void reference_input_grad(int h, int w, PixelMap<const float> in, Reduction r, const Panels& b, PixelMap<float> out,
                          bool accumulate) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int j = 0; j < b.n; ++j) {
        float s = 0.0f;
        for (int row = 0; row < r.rows; ++row)
          for (int i = 0; i < r.run; ++i) s += in.at(y, x)[row * r.row_stride + i] * b.at(row * r.run + i, j);
        float& o = out.at(y, x)[j];
        o = accumulate ? o + s : s;
      }
}

}  // namespace squeezenet::train
