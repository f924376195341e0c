// The avx2 instances of the int8 kernels (int8_impl.h) and their table.
#include "kernels/x86/int8_impl.h"
#include "kernels/x86/int8_isa_avx2.h"
#include "kernels/x86/int8_winograd.h"

namespace squeezenet::x86::int8 {
namespace {
// The three paths give the same int32 sums; the pairs path does half the widened path's work where the weights
// allow it, the quad-pairs path three quarters of the pairs path's multiplies.
void conv_avx2(const PackedConv& pc, const ConvIO& io, int64_t first, int64_t last) {
  if (pc.quad_pairs_fit_16)
    conv<Avx2Int8QuadPairs>(pc, io, first, last);
  else if (pc.pairs_fit_16)
    conv<Avx2Int8Pairs>(pc, io, first, last);
  else
    conv<Avx2Int8>(pc, io, first, last);
}
}  // namespace

static_assert(Avx2Int8::lanes == Avx2Int8Pairs::lanes && Avx2Int8::group_blocks == Avx2Int8Pairs::group_blocks &&
                  Avx2Int8::lanes == Avx2Int8QuadPairs::lanes &&
                  Avx2Int8::group_blocks == Avx2Int8QuadPairs::group_blocks,
              "the three paths read one weight layout");
// Threads cut pixel ranges on multiples of every path's tile (4 or 6 pixels).
const KernelTable int8_avx2_kernels{"avx2-int8",
                                    Avx2Int8::lanes,
                                    Avx2Int8::group_blocks,
                                    12,
                                    conv_avx2,
                                    quantize_image<Avx2Int8>,
                                    max_pool<Avx2Int8>,
                                    stack_windows,
                                    peak_gmacs<Avx2Int8Pairs>,
                                    winograd3x3_avx2};

}  // namespace squeezenet::x86::int8
