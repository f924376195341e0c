// The avx2 instances of the int8 kernels (int8_impl.h) and their table.
#include "kernels/x86/int8_impl.h"
#include "kernels/x86/int8_isa_avx2.h"

namespace squeezenet::x86::int8 {

const KernelTable int8_avx2_kernels{"avx2-int8", Avx2Int8::lanes, Avx2Int8::group_blocks, Avx2Int8::max_pixels,
                                    conv<Avx2Int8>, quantize_image<Avx2Int8>, max_pool<Avx2Int8>, stack_windows,
                                    peak_gmacs<Avx2Int8>};

}  // namespace squeezenet::x86::int8
