#pragma once
// The yardstick for "% of peak": independent FMA chains from registers, nothing from memory. Included by
// peak_avx2.cpp and kernels_avx512.cpp, each instantiating it for its own T.
#include <chrono>
#include <cstdint>

namespace squeezenet::x86 {

template <class T>
double fma_peak_gflops(double seconds) {
  // 12 chains hide the 4-cycle FMA latency on two pipes; values stay bounded (x * 0.9999 + 1e-5).
  constexpr int chains = 12;
  constexpr int64_t rounds = 1 << 16;
  typename T::Vec a[chains];
  for (int i = 0; i < chains; ++i) a[i] = T::set1(0.001f * static_cast<float>(i));
  const typename T::Vec b = T::set1(0.9999f), c = T::set1(1e-5f);
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  int64_t done = 0;
  double elapsed = 0.0;
  do {
    for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 12
      for (int i = 0; i < chains; ++i) a[i] = T::fmadd(a[i], b, c);
    }
    done += rounds;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < seconds);
  // The chains' sum goes to memory, so that the loop is not folded away.
  typename T::Vec sum = a[0];
  for (int i = 1; i < chains; ++i) sum = sum + a[i];
  volatile float sink = sum[0];
  (void)sink;
  return static_cast<double>(done) * chains * T::lanes * 2 / elapsed / 1e9;
}

}  // namespace squeezenet::x86
