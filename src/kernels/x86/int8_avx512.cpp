// The avx512-vnni instances of the int8 kernels (int8_impl.h) and their table.
#include "kernels/x86/int8_impl.h"
#include "kernels/x86/int8_isa_avx512.h"

namespace squeezenet::x86::int8 {

namespace {

// stack_windows (int8_table.h), 16 image columns at a time: the K rows' 16 pixels in K registers, and each of
// the K output vectors of the columns' windows (pixel j: column j / K, row j % K) picked from them two rows per
// permute, on the shuffle ports (gathers were slower than the plain copies).
void stack_windows_avx512(const uint8_t* image, int64_t width, int kernel, int stride, uint8_t* out, int64_t out_row,
                          int64_t first_row, int64_t last_row) {
  constexpr int L = Avx512Vnni::lanes, kPairs = (kMaxStemKernel + 1) / 2;
  const int64_t image_row = 4 * width, vector_columns = width / L * L;
  const int pairs = (kernel + 1) / 2;
  // Lane e of output v: column (v * L + e) / K, + 16 to take it from the pair's second row.
  __m512i index[kMaxStemKernel];
  __mmask16 from_pair[kMaxStemKernel][kPairs] = {};
  for (int v = 0; v < kernel; ++v) {
    alignas(64) int32_t c[L];
    for (int e = 0; e < L; ++e) {
      const int j = v * L + e, row = j % kernel;
      c[e] = j / kernel + (row % 2) * L;
      from_pair[v][row / 2] = static_cast<__mmask16>(from_pair[v][row / 2] | (1u << e));
    }
    index[v] = _mm512_load_si512(c);
  }
  for (int64_t oy = first_row; oy < last_row; ++oy) {
    const uint8_t* top = image + oy * stride * image_row;
    uint8_t* d = out + oy * out_row;
    for (int64_t x = 0; x < vector_columns; x += L) {
      __m512i rows[kMaxStemKernel + 1];
      for (int ky = 0; ky < kernel; ++ky) rows[ky] = _mm512_loadu_si512(top + ky * image_row + 4 * x);
      rows[kernel] = rows[kernel - 1];  // an odd K's last pair
      for (int v = 0; v < kernel; ++v, d += 3 * L) {
        __m512i pixels = _mm512_maskz_permutex2var_epi32(from_pair[v][0], rows[0], index[v], rows[1]);
        for (int p = 1; p < pairs; ++p)
          pixels = _mm512_or_si512(
              pixels, _mm512_maskz_permutex2var_epi32(from_pair[v][p], rows[2 * p], index[v], rows[2 * p + 1]));
        Avx512Vnni::store_rgb(d, pixels);
      }
    }
    stack_window_columns(top, image_row, kernel, vector_columns, width, d);
  }
}

}  // namespace

const KernelTable int8_avx512_vnni_kernels{"avx512vnni-int8",      Avx512Vnni::lanes,    Avx512Vnni::group_blocks,
                                           Avx512Vnni::max_pixels, conv<Avx512Vnni>,     quantize_image<Avx512Vnni>,
                                           max_pool<Avx512Vnni>,   stack_windows_avx512, peak_gmacs<Avx512Vnni>};

}  // namespace squeezenet::x86::int8
