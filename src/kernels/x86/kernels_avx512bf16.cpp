// The AVX512-BF16 family: bf16 convs on the AVX-512 register tile (the head over pairs converted once), bf16
// Winograd for the 3x3 expands, the AVX-512 pools (over bf16 activations too) and transpose, and the vdpbf16ps
// peak loop.
#include <algorithm>
#include <chrono>

#include "kernels/x86/bf16.h"
#include "kernels/x86/conv_impl.h"
#include "kernels/x86/head_bf16_impl.h"
#include "kernels/x86/isa_avx512bf16.h"
#include "kernels/x86/kernel_table.h"
#include "kernels/x86/layout_impl.h"
#include "kernels/x86/pool_impl.h"
#include "kernels/x86/winograd_bf16_impl.h"

namespace squeezenet::x86 {
namespace {

// As fma_peak_gflops (peak_impl.h), with vdpbf16ps: 12 independent chains, 32 multiply-adds each per
// instruction, from registers.
double dpbf16_peak_gflops_avx512bf16(double seconds) {
  constexpr int chains = 12;
  constexpr int64_t rounds = 1 << 16;
  __m512 a[chains];
  for (int i = 0; i < chains; ++i) a[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  const __m512bh c = _mm512_cvtne2ps_pbh(_mm512_set1_ps(-1e-3f), _mm512_set1_ps(1e-3f));
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  int64_t done = 0;
  double elapsed = 0.0;
  do {
    for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 12
      for (int i = 0; i < chains; ++i) a[i] = _mm512_dpbf16_ps(a[i], b, c);
    }
    done += rounds;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < seconds);
  __m512 sum = a[0];
  for (int i = 1; i < chains; ++i) sum = _mm512_add_ps(sum, a[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return static_cast<double>(done) * chains * 32 * 2 / elapsed / 1e9;
}

void max_pool_bf16_avx512bf16(const uint16_t* in, int h, int w, int c, uint16_t* out, int row_begin, int row_end) {
  max_pool_3x3s2_ceil<Avx512Bf16Max, false>(in, h, w, c, out, row_begin, row_end);
}

void round_bf16_avx512bf16(const float* in, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; i += Avx512Bf16::lanes) {
    const int k = static_cast<int>(std::min<int64_t>(Avx512Bf16::lanes, n - i));
    Avx512Bf16::store_bf16(out + i, Avx512Bf16::load_first(in + i, k), k);
  }
}

}  // namespace

const KernelTable avx512bf16_kernels{"avx512bf16",
                                     "avx512bf16",
                                     Precision::bf16,
                                     Avx512Bf16::split_pixels,
                                     detail::pixel_unit<Avx512Bf16>,
                                     bf16::pack,
                                     bf16::pack_winograd,
                                     conv_relu<Avx512Bf16>,
                                     conv_relu_channel_sums_avx512bf16,
                                     winograd_relu_avx512bf16,
                                     max_pool_3x3s2_ceil<Avx512Bf16, true>,
                                     max_pool_3x3s2_ceil<Avx512Bf16, false>,
                                     rgb_to_nhwc<Avx512Bf16>,
                                     &avx512_kernels,
                                     "AVX512-BF16 (vdpbf16ps)",
                                     dpbf16_peak_gflops_avx512bf16,
                                     max_pool_bf16_avx512bf16,
                                     round_bf16_avx512bf16};

}  // namespace squeezenet::x86
