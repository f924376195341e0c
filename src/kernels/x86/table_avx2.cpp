#include "kernels/x86/isa_avx2.h"
#include "kernels/x86/kernel_table.h"
#include "kernels/x86/microkernel.h"

namespace squeezenet::x86 {

const KernelTable avx2_kernels{"avx2",
                               "avx2-fp32",
                               Precision::fp32,
                               Avx2::split_pixels,
                               detail::pixel_unit<Avx2>,
                               nullptr,
                               nullptr,
                               avx2::conv_relu,
                               avx2::conv_relu_channel_sums,
                               avx2::winograd_relu,
                               avx2::max_pool_3x3s2_ceil,
                               avx2::max_pool_3x3s2_ceil_no_nan,
                               avx2::rgb_to_nhwc,
                               nullptr,
                               "FMA",
                               avx2::fma_peak_gflops,
                               nullptr,
                               nullptr};

}  // namespace squeezenet::x86
