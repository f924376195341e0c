// The training backward's kernels for AVX-512: grad_kernels.h's tiles, up to 8 rows x 48 or 6 rows x 64 columns in
// 24 zmm accumulators, and nhwc_ops.h's loops compiled for it.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/isa_avx512.h"
#include "squeezenet/model.h"
#include "train/grad_kernels.h"
#include "train/grad_kernels_isa.h"

namespace squeezenet::train::avx512 {
namespace {

struct Isa : x86::Avx512 {
  static constexpr int kMaxPanels = 4;
  static constexpr int weight_rows(int panels) { return panels < 4 ? 8 : 6; }
};

#include "train/grad_kernels_impl.h"

}  // namespace

#include "train/grad_kernels_entries.h"

}  // namespace squeezenet::train::avx512

