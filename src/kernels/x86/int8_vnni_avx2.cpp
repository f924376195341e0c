// The avx-vnni instances of the int8 kernels (int8_impl.h) and their table.
#include "kernels/x86/int8_impl.h"
#include "kernels/x86/int8_isa_avx2.h"

namespace squeezenet::x86::int8 {

const KernelTable int8_avx2_vnni_kernels{"avxvnni-int8", Avx2Vnni::lanes, Avx2Vnni::group_blocks, Avx2Vnni::max_pixels,
                                         conv<Avx2Vnni>, quantize_image<Avx2Vnni>, max_pool<Avx2Vnni>, stack_windows,
                                         peak_gmacs<Avx2Vnni>};

}  // namespace squeezenet::x86::int8
