// The yardstick for "% of peak": independent FMA chains from registers, nothing from memory.
#include <immintrin.h>

#include <chrono>

#include "kernels/x86/kernels_avx2.h"

namespace squeezenet::avx2 {

double fma_peak_gflops(double seconds) {
  // 12 chains hide the 4-5 cycle FMA latency on two pipes; values stay bounded (x * 0.9999 + 1e-5).
  constexpr int chains = 12;
  constexpr int64_t rounds = 1 << 16;
  __m256 a[chains];
  for (int i = 0; i < chains; ++i) a[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 b = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-5f);
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  int64_t done = 0;
  double elapsed = 0.0;
  do {
    for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 12
      for (int i = 0; i < chains; ++i) a[i] = _mm256_fmadd_ps(a[i], b, c);
      // Keeps the chains in registers and the loop from being folded away.
      __asm__ volatile("" : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]), "+x"(a[4]), "+x"(a[5]));
      __asm__ volatile("" : "+x"(a[6]), "+x"(a[7]), "+x"(a[8]), "+x"(a[9]), "+x"(a[10]), "+x"(a[11]));
    }
    done += rounds;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(done) * chains * 16 / elapsed / 1e9;
}

}  // namespace squeezenet::avx2
