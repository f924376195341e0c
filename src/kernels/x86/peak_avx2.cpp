#include "kernels/x86/isa_avx2.h"
#include "kernels/x86/kernels_avx2.h"
#include "kernels/x86/peak_impl.h"

namespace squeezenet::avx2 {

double fma_peak_gflops(double seconds) { return x86::fma_peak_gflops<x86::Avx2>(seconds); }

}  // namespace squeezenet::avx2
