// The training GEMM's register tile for AVX2 + FMA: 6 rows x 16 columns in 12 ymm accumulators.
#include <immintrin.h>

#include "train/gemm_tile.h"

namespace squeezenet::train {

void gemm_tile_avx2(int64_t kc, const float* a, const float* b, float* tile) {
  constexpr int rows = kGemmRows, columns = kGemmColumns;
  __m256 c0[rows], c1[rows];
  for (int r = 0; r < rows; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += rows, b += columns) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    for (int r = 0; r < rows; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r);
      c0[r] = _mm256_fmadd_ps(x, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(x, b1, c1[r]);
    }
  }
  for (int r = 0; r < rows; ++r) {
    _mm256_store_ps(tile + r * columns, c0[r]);
    _mm256_store_ps(tile + r * columns + 8, c1[r]);
  }
}

}  // namespace squeezenet::train
