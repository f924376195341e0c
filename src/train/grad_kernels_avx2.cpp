// The training backward's kernels for AVX2 + FMA: grad_kernels.h's tiles, 6 rows x 16 columns in 12 ymm
// accumulators, and nhwc_ops.h's loops compiled for it.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/isa_avx2.h"
#include "squeezenet/model.h"
#include "train/grad_kernels.h"
#include "train/grad_kernels_isa.h"

namespace squeezenet::train::avx2 {
namespace {

struct Isa : x86::Avx2 {
  static constexpr int kMaxPanels = 1;
  static constexpr int weight_rows(int) { return 6; }
};

#include "train/grad_kernels_impl.h"

}  // namespace

#include "train/grad_kernels_entries.h"

}  // namespace squeezenet::train::avx2

