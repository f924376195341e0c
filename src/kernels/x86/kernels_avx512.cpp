// The AVX-512 instances of the conv, Winograd, max-pool, transpose and peak kernels, and their table.
#include "kernels/x86/conv_impl.h"
#include "kernels/x86/isa_avx512.h"
#include "kernels/x86/kernel_table.h"
#include "kernels/x86/layout_impl.h"
#include "kernels/x86/peak_impl.h"
#include "kernels/x86/pool_impl.h"
#include "kernels/x86/winograd_impl.h"

namespace squeezenet::x86 {
namespace {

void winograd_relu_avx512(const PackedWinograd& p, const ConvIO& io, int64_t tile_begin, int64_t tile_end,
                          float* scratch) {
  if (p.tile == 2)
    winograd_relu<Avx512, F2>(p, io, tile_begin, tile_end, scratch);
  else
    winograd_relu<Avx512, F4>(p, io, tile_begin, tile_end, scratch);
}

}  // namespace

const KernelTable avx512_kernels{"avx512",
                                 "avx512-fp32",
                                 Precision::fp32,
                                 Avx512::split_pixels,
                                 detail::pixel_unit<Avx512>,
                                 nullptr,
                                 nullptr,
                                 conv_relu<Avx512>,
                                 conv_relu_channel_sums<Avx512>,
                                 winograd_relu_avx512,
                                 max_pool_3x3s2_ceil<Avx512, true>,
                                 max_pool_3x3s2_ceil<Avx512, false>,
                                 rgb_to_nhwc<Avx512>,
                                 nullptr,
                                 "FMA",
                                 fma_peak_gflops<Avx512>,
                                 nullptr,
                                 nullptr};

}  // namespace squeezenet::x86
