#include "train/gemm.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/dispatch.h"
#include "train/gemm_tile.h"
#include "squeezenet/tensor.h"

namespace squeezenet::train {
namespace {

constexpr int kMR = kGemmRows, kNR = kGemmColumns;
constexpr int64_t kKC = 256;      // reduction block: an A panel and a B panel stay in L1
constexpr int64_t kMC = 72;       // rows of A per task (12 panels)
constexpr int64_t kNChunk = 256;  // columns of B per task (16 panels)
constexpr int64_t kParallelWork = int64_t{1} << 21;

using Floats = std::vector<float, AlignedAllocator<float>>;

void tile_portable(int64_t kc, const float* a, const float* b, float* tile) {
  float acc[kMR][kNR] = {};
  for (int64_t k = 0; k < kc; ++k, a += kMR, b += kNR)
    for (int r = 0; r < kMR; ++r)
      for (int c = 0; c < kNR; ++c) acc[r][c] += a[r] * b[c];
  std::memcpy(tile, acc, sizeof acc);
}

using TileFn = void (*)(int64_t, const float*, const float*, float*);

// Rows [row0, row0 + rows) of A over the reduction block [k0, k0 + kc), as 6-row panels [kc][6], zero-padded.
void pack_a(MatrixView a, int64_t row0, int64_t rows, int64_t k0, int64_t kc, float* out) {
  for (int64_t p = 0; p < rows; p += kMR)
    for (int64_t k = 0; k < kc; ++k)
      for (int r = 0; r < kMR; ++r) *out++ = p + r < rows ? a.at(row0 + p + r, k0 + k) : 0.0f;
}

// All n columns of B over [k0, k0 + kc), as 16-column panels [kc][16], zero-padded; panel j starts at j*kc*16.
void pack_b_panel(MatrixView b, int64_t n, int64_t panel, int64_t k0, int64_t kc, float* out) {
  const int64_t col0 = panel * kNR;
  const int cols = static_cast<int>(std::min<int64_t>(kNR, n - col0));
  for (int64_t k = 0; k < kc; ++k)
    for (int c = 0; c < kNR; ++c) *out++ = c < cols ? b.at(k0 + k, col0 + c) : 0.0f;
}

}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (!accumulate)
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
  if (k <= 0) return;
  static const TileFn tile_fn = kernels::has_avx2_fma() ? gemm_tile_avx2 : tile_portable;
  const int64_t panels = (n + kNR - 1) / kNR;
  const int64_t row_blocks = (m + kMC - 1) / kMC, col_chunks = (n + kNChunk - 1) / kNChunk;
  Floats packed_b(static_cast<std::size_t>(panels * kNR * std::min(k, kKC)));
  for (int64_t k0 = 0; k0 < k; k0 += kKC) {
    const int64_t kc = std::min(kKC, k - k0);
    // Threads only where the product is big enough to repay waking them (tests run many tiny ones), and not
    // when the caller already spreads images over threads.
#pragma omp parallel if (m * n * kc >= kParallelWork && !omp_in_parallel())
    {
#pragma omp for schedule(static)
      for (int64_t p = 0; p < panels; ++p) pack_b_panel(b, n, p, k0, kc, packed_b.data() + p * kc * kNR);
      alignas(64) float tile[kMR * kNR];
      Floats packed_a(static_cast<std::size_t>(kMC * kc));
#pragma omp for schedule(dynamic)
      for (int64_t task = 0; task < row_blocks * col_chunks; ++task) {
        const int64_t row0 = (task / col_chunks) * kMC, col0 = (task % col_chunks) * kNChunk;
        const int64_t rows = std::min(kMC, m - row0), cols = std::min(kNChunk, n - col0);
        pack_a(a, row0, rows, k0, kc, packed_a.data());
        for (int64_t j = 0; j < cols; j += kNR) {
          const float* bp = packed_b.data() + ((col0 + j) / kNR) * kc * kNR;
          const int nr = static_cast<int>(std::min<int64_t>(kNR, cols - j));
          for (int64_t i = 0; i < rows; i += kMR) {
            tile_fn(kc, packed_a.data() + i * kc, bp, tile);
            const int mr = static_cast<int>(std::min<int64_t>(kMR, rows - i));
            for (int r = 0; r < mr; ++r) {
              float* dst = c + (row0 + i + r) * ldc + col0 + j;
              for (int q = 0; q < nr; ++q) dst[q] += tile[r * kNR + q];
            }
          }
        }
      }
    }
  }
}

}  // namespace squeezenet::train
