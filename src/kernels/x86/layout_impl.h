#pragma once
// The network's entry: one image's three NCHW planes to NHWC pixels, checking on the way that every value is
// finite. Included by pool_avx2.cpp and kernels_avx512.cpp, each instantiating it for its own T.
#include <cmath>
#include <cstdint>

namespace squeezenet::x86 {

template <class T>
bool rgb_to_nhwc(const float* in, int h, int w, float* out, int row_begin, int row_end) {
  const int64_t plane = int64_t{h} * w;
  bool finite = true;
  for (int y = row_begin; y < row_end; ++y) {
    const float* r = in + int64_t{y} * w;
    float* o = out + int64_t{y} * w * 3;
    int x = 0;
    for (; x + T::lanes <= w; x += T::lanes) {
      const auto vr = T::load(r + x), vg = T::load(r + plane + x), vb = T::load(r + 2 * plane + x);
      finite &= (T::finite_lanes(vr) & T::finite_lanes(vg) & T::finite_lanes(vb)) == T::all_lanes;
      T::store_interleaved3(o + 3 * x, vr, vg, vb);
    }
    for (; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = r[c * plane + x];
        finite &= std::isfinite(v);
        o[3 * x + c] = v;
      }
  }
  return finite;
}

}  // namespace squeezenet::x86
