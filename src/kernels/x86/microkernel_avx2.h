#pragma once
// The register tile every conv here is built on: up to 6 rows (pixels, or Winograd tiles) times 16 output
// channels in 12 ymm accumulators, summed over a reduction that walks contiguous runs of input. Include only
// from *_avx2.cpp files.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/x86/kernels_avx2.h"

namespace squeezenet::avx2::detail {

// For each of `rows` runs (kernel rows, `row_stride` floats apart in the input), `run` consecutive input values
// per tile row against the panel's next `run` rows of 16 weights.
struct Reduction {
  int rows;
  int64_t row_stride;
  int run;
};

template <int M>
struct Acc {
  __m256 v[M][2];
};

template <int M>
inline Acc<M> gemm_tile(const float* const* in, const float* panel, __m256 init0, __m256 init1, const Reduction& r) {
  Acc<M> a;
#pragma GCC unroll 6
  for (int j = 0; j < M; ++j) a.v[j][0] = init0, a.v[j][1] = init1;
  const float* w = panel;
  for (int s = 0; s < r.rows; ++s) {
    const float* p[M];
#pragma GCC unroll 6
    for (int j = 0; j < M; ++j) p[j] = in[j] + s * r.row_stride;
    for (int k = 0; k < r.run; ++k, w += kTileChannels) {
      const __m256 w0 = _mm256_load_ps(w), w1 = _mm256_load_ps(w + 8);
#pragma GCC unroll 6
      for (int j = 0; j < M; ++j) {
        const __m256 x = _mm256_broadcast_ss(p[j] + k);
        a.v[j][0] = _mm256_fmadd_ps(x, w0, a.v[j][0]);
        a.v[j][1] = _mm256_fmadd_ps(x, w1, a.v[j][1]);
      }
    }
  }
  return a;
}

template <int M>
inline void relu(Acc<M>& a) {
  const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int j = 0; j < M; ++j) a.v[j][0] = _mm256_max_ps(a.v[j][0], zero), a.v[j][1] = _mm256_max_ps(a.v[j][1], zero);
}

// Lane i set when i < n: the stores of a partial channel block.
inline __m256i lanes_below(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Stores the first `valid` of the 16 channels of each row j at out[j] + offset.
template <int M>
inline void store(const Acc<M>& a, float* const* out, int64_t offset, int valid) {
  if (valid == kTileChannels) {
#pragma GCC unroll 6
    for (int j = 0; j < M; ++j) {
      _mm256_storeu_ps(out[j] + offset, a.v[j][0]);
      _mm256_storeu_ps(out[j] + offset + 8, a.v[j][1]);
    }
  } else {
    const __m256i m0 = lanes_below(valid), m1 = lanes_below(valid - 8);
    for (int j = 0; j < M; ++j) {
      _mm256_maskstore_ps(out[j] + offset, m0, a.v[j][0]);
      _mm256_maskstore_ps(out[j] + offset + 8, m1, a.v[j][1]);
    }
  }
}

// Calls f(std::integral_constant<int, M>{}, first) over `count` rows: full tiles of 6, then the rest.
template <class F>
inline void for_each_tile(int count, F&& f) {
  int i = 0;
  for (; i + kTilePixels <= count; i += kTilePixels) f(std::integral_constant<int, kTilePixels>{}, i);
  switch (count - i) {
    case 5:
      f(std::integral_constant<int, 5>{}, i);
      break;
    case 4:
      f(std::integral_constant<int, 4>{}, i);
      break;
    case 3:
      f(std::integral_constant<int, 3>{}, i);
      break;
    case 2:
      f(std::integral_constant<int, 2>{}, i);
      break;
    case 1:
      f(std::integral_constant<int, 1>{}, i);
      break;
    default:
      break;
  }
}

}  // namespace squeezenet::avx2::detail
