#pragma once
// The register tile of the training GEMM (gemm.cpp): tile[6][16] = sum over kc of a[k][r] * b[k][c], A and B
// packed as panels [kc][6] and [kc][16].
#include <cstdint>

namespace squeezenet::train {

constexpr int kGemmRows = 6, kGemmColumns = 16;

// In gemm_tile_avx2.cpp, compiled for AVX2 + FMA: call only where kernels::has_avx2_fma().
void gemm_tile_avx2(int64_t kc, const float* a, const float* b, float* tile);

}  // namespace squeezenet::train
