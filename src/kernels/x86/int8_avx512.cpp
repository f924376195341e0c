// The avx512-vnni instances of the int8 kernels (int8_impl.h) and their table.
#include "kernels/x86/int8_impl.h"
#include "kernels/x86/int8_isa_avx512.h"

namespace squeezenet::x86::int8 {

const KernelTable int8_avx512_vnni_kernels{"avx512vnni-int8",     Avx512Vnni::lanes,         Avx512Vnni::group_blocks,
                                   Avx512Vnni::max_pixels, conv<Avx512Vnni>,           quantize_image<Avx512Vnni>, max_pool<Avx512Vnni>,
                                   peak_gmacs<Avx512Vnni>};

}  // namespace squeezenet::x86::int8
