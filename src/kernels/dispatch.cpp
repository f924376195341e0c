#include "kernels/dispatch.h"

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

}  // namespace squeezenet::kernels
