#pragma once
// Which kernel family this CPU can run. One binary serves every x86-64: the AVX2 and AVX-512 kernels live in
// their own translation units and are entered only after asking here.
#include "squeezenet/engine.h"

namespace squeezenet::kernels {

// AVX2 and FMA in the CPU, and the OS saving the ymm registers.
bool has_avx2_fma();
// AVX-512F in the CPU, and the OS saving the zmm and mask registers.
bool has_avx512();

// The kernels this CPU runs fastest at `precision`. fp32: nullptr without AVX2 + FMA (the reference forward
// serves). Other precisions throw Error, in one line, where this CPU or build has no kernels for them. The
// environment variable SQUEEZENET_ISA=avx2 holds an AVX-512 machine to AVX2, to compare the two.
const x86::KernelTable* fastest_kernels(Precision precision = Precision::fp32);

}  // namespace squeezenet::kernels
