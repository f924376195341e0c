#pragma once
// Single-precision matrix product for the training convolutions, in the GotoBLAS shape: packed panels of A
// (6 rows) and B (16 columns), a register-tile micro-kernel (AVX2+FMA where the CPU has it, portable loops
// elsewhere), blocked over K for the caches and spread over OpenMP threads by output tiles.
#include <cstdint>

namespace squeezenet::train {

// A row-major matrix view; `transposed` reads element (r, c) at data[c * ld + r].
struct MatrixView {
  const float* data;
  int64_t ld;
  bool transposed = false;
  float at(int64_t r, int64_t c) const { return transposed ? data[c * ld + r] : data[r * ld + c]; }
};

// C[m, n] (row-major, row stride ldc) = (accumulate ? C : 0) + A[m, k] * B[k, n]. Every element is summed in
// the same order whatever the thread count, so results do not depend on it.
void sgemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate);

}  // namespace squeezenet::train
