#include "kernels/dispatch.h"

#include <cstdlib>
#include <string_view>

#include "kernels/x86/kernel_table.h"
#include "squeezenet/error.h"

namespace squeezenet::kernels {

bool has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's cpu model also checks XCR0, so "avx2" is false where the OS does not enable AVX state.
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

bool has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  // As for AVX2, libgcc reports "avx512f" only where XCR0 shows the OS saving the AVX-512 state.
  static const bool yes = has_avx2_fma() && __builtin_cpu_supports("avx512f");
  return yes;
#else
  return false;
#endif
}

const x86::KernelTable* fastest_kernels(Precision precision) {
  if (precision != Precision::fp32) throw Error(precision_name(precision) + " is not available in this build");
  if (!has_avx2_fma()) return nullptr;
  const char* cap = std::getenv("SQUEEZENET_ISA");
  if (has_avx512() && !(cap && std::string_view(cap) == "avx2")) return &x86::avx512_kernels;
  return &x86::avx2_kernels;
}

}  // namespace squeezenet::kernels
