#pragma once
// Which kernel family this CPU can run. One binary serves every x86-64: the AVX2 kernels live in their own
// translation units and are entered only after asking here.
namespace squeezenet::kernels {

// AVX2 and FMA in the CPU, and the OS saving the ymm registers.
bool has_avx2_fma();

}  // namespace squeezenet::kernels
