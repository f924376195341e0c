// The register tiles of the training backward (train/grad_kernels.h) against their plain loops, for every ISA
// this CPU has, on shapes that leave partial tiles everywhere: channel counts off the multiples of 8 and 16,
// maps of one pixel, strided and bordered maps, accumulation on top of what the output holds.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/dispatch.h"
#include "random_tensor.h"
#include "train/grad_kernels.h"
#include "train/grad_kernels_isa.h"

namespace squeezenet::train {
namespace {

using WeightGradFn = void (*)(int, int, PixelMap<const float>, int, PixelMap<const float>, int, float*, int64_t, bool);
using InputGradFn = void (*)(int, int, PixelMap<const float>, Reduction, const Panels&, PixelMap<float>, bool);

struct Isa {
  const char* name;
  bool available;
  WeightGradFn weight_grad;
  InputGradFn input_grad;
};

std::vector<Isa> isas() {
  return {{"dispatched", true, train::weight_grad, train::input_grad},
          {"avx2", kernels::has_avx2_fma(), avx2::weight_grad_tiles, avx2::input_grad_tiles},
          {"avx512", kernels::has_avx512(), avx512::weight_grad_tiles, avx512::input_grad_tiles}};
}

float max_abs(const Tensor& t) {
  float m = 0.0f;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t[i]));
  return m;
}

TEST(GradKernels, WeightGradMatchesPlainLoops) {
  struct Case {
    int h, w, m, n, a_pixel, b_pixel;
  };
  // a_pixel / b_pixel > m / n: runs inside wider maps (a kernel row of a bordered frame, a channel slice).
  for (const Case& s : {Case{1, 1, 1, 1, 1, 1}, Case{3, 5, 7, 9, 7, 9}, Case{2, 7, 16, 64, 16, 64},
                        Case{5, 3, 21, 96, 6, 100}, Case{4, 4, 48, 33, 50, 40}, Case{3, 90, 13, 130, 13, 130},
                        Case{17, 19, 9, 17, 11, 20}, Case{1, 300, 8, 48, 8, 48}}) {
    const int64_t a_row = int64_t{s.w} * s.a_pixel + 3, b_row = int64_t{s.w} * s.b_pixel + 5;
    const Tensor a = test::random_tensor({s.h * a_row + s.m}, 1), b = test::random_tensor({s.h * b_row + s.n}, 2);
    const PixelMap<const float> ma{a.data(), a_row, s.a_pixel}, mb{b.data(), b_row, s.b_pixel};
    const int64_t ldc = s.n + 2;
    for (bool accumulate : {false, true}) {
      Tensor want = test::random_tensor({s.m * ldc}, 3);
      reference_weight_grad(s.h, s.w, ma, s.m, mb, s.n, want.data(), ldc, accumulate);
      for (const Isa& isa : isas()) {
        if (!isa.available) continue;
        Tensor got = test::random_tensor({s.m * ldc}, 3);
        isa.weight_grad(s.h, s.w, ma, s.m, mb, s.n, got.data(), ldc, accumulate);
        for (int i = 0; i < s.m; ++i)
          for (int j = 0; j < ldc; ++j) {
            const float tol = j < s.n ? 1e-5f * static_cast<float>(s.h * s.w) : 0.0f;  // padding stays untouched
            ASSERT_NEAR(got[i * ldc + j], want[i * ldc + j], tol)
                << isa.name << " " << s.h << "x" << s.w << " m " << s.m << " n " << s.n << " at " << i << "," << j;
          }
      }
    }
  }
}

TEST(GradKernels, InputGradMatchesPlainLoops) {
  struct Case {
    int h, w, rows, run, n, in_pixel, out_pixel;
  };
  for (const Case& s : {Case{1, 1, 1, 1, 1, 1, 1}, Case{3, 5, 3, 21, 7, 7, 9}, Case{7, 7, 1, 16, 64, 16, 64},
                        Case{5, 13, 3, 48, 16, 16, 20}, Case{2, 9, 3, 30, 100, 10, 100}, Case{6, 6, 1, 5, 130, 5, 131},
                        Case{1, 49, 2, 3, 48, 3, 48}}) {
    // Each input pixel's kernel rows lie `row_stride` apart inside a wider frame, as in a bordered map.
    const int64_t in_row = int64_t{s.w + 2} * s.in_pixel, row_stride = in_row;
    const int64_t out_row = int64_t{s.w} * s.out_pixel + 1;
    const Tensor in = test::random_tensor({(s.h + s.rows) * in_row + s.run}, 4);
    Panels b(s.rows * s.run, s.n);
    const Tensor values = test::random_tensor({b.k * int64_t{b.n}}, 5);
    for (int k = 0; k < b.k; ++k)
      for (int j = 0; j < b.n; ++j) b.at(k, j) = values[k * int64_t{b.n} + j];
    const Reduction r{s.rows, row_stride, s.run};
    const PixelMap<const float> min{in.data(), in_row, s.in_pixel};
    for (bool accumulate : {false, true}) {
      Tensor want = test::random_tensor({s.h * out_row}, 6);
      reference_input_grad(s.h, s.w, min, r, b, {want.data(), out_row, s.out_pixel}, accumulate);
      for (const Isa& isa : isas()) {
        if (!isa.available) continue;
        Tensor got = test::random_tensor({s.h * out_row}, 6);
        isa.input_grad(s.h, s.w, min, r, b, {got.data(), out_row, s.out_pixel}, accumulate);
        const float tol = 1e-5f * static_cast<float>(s.rows * s.run) * std::max(1.0f, max_abs(want));
        for (int64_t i = 0; i < got.numel(); ++i)
          ASSERT_NEAR(got[i], want[i], tol)
              << isa.name << " " << s.h << "x" << s.w << " run " << s.run << " n " << s.n << " at " << i;
      }
    }
  }
}

}  // namespace
}  // namespace squeezenet::train
