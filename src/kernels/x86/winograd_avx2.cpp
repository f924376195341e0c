// The AVX2 instance of winograd_impl.h.
#include "kernels/x86/isa_avx2.h"
#include "kernels/x86/winograd_impl.h"

namespace squeezenet::avx2 {

void winograd_relu(const PackedWinograd& p, const ConvIO& io, int64_t tile_begin, int64_t tile_end, float* scratch) {
  if (p.tile == 2)
    x86::winograd_relu<x86::Avx2, x86::F2>(p, io, tile_begin, tile_end, scratch);
  else
    x86::winograd_relu<x86::Avx2, x86::F4>(p, io, tile_begin, tile_end, scratch);
}

}  // namespace squeezenet::avx2
