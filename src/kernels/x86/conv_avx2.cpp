// The AVX2 instance of the implicit-GEMM conv (conv_impl.h).
#include "kernels/x86/conv_impl.h"
#include "kernels/x86/isa_avx2.h"

namespace squeezenet::avx2 {

void conv_relu(const PackedConv& c, const ConvIO& io, int64_t pixel_begin, int64_t pixel_end, int block_begin,
               int block_end) {
  x86::conv_relu<x86::Avx2>(c, io, pixel_begin, pixel_end, block_begin, block_end);
}

void conv_relu_channel_sums(const PackedConv& c, const ConvIO& io, int block_begin, int block_end, float* sums) {
  x86::conv_relu_channel_sums<x86::Avx2>(c, io, block_begin, block_end, sums);
}

}  // namespace squeezenet::avx2
