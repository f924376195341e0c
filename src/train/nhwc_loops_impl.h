// The memory-bound steps of the NHWC backward (nhwc_ops.h) as plain loops over contiguous channels, written
// once: nhwc_ops.cpp compiles them for any x86-64, grad_kernels_<isa>.cpp inside its target pragma, where the
// compiler vectorises the channel loops at that ISA's width. No headers here; the includer provides
// PixelMap and pool_output_size.

void max_pool_backward(const float* x, int h, int w, int c, const float* dy, float* dx) {
  constexpr int kBlock = 64;  // channels whose running maxima stay in registers
  const auto out_h = static_cast<int>(pool_output_size(h, 3, 2)), out_w = static_cast<int>(pool_output_size(w, 3, 2));
  for (int oy = 0; oy < out_h; ++oy)
    for (int ox = 0; ox < out_w; ++ox) {
      const int y0 = 2 * oy, x0 = 2 * ox, y1 = h < y0 + 3 ? h : y0 + 3, x1 = w < x0 + 3 ? w : x0 + 3;
      for (int c0 = 0; c0 < c; c0 += kBlock) {
        const int n = c - c0 < kBlock ? c - c0 : kBlock;
        float best[kBlock], arg[kBlock];  // the window position of each maximum, as a float to vectorise
        for (int j = 0; j < n; ++j) best[j] = -__builtin_inff(), arg[j] = 0.0f;
        float tap = 0.0f;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix, tap += 1.0f) {
            const float* v = x + (int64_t{iy} * w + ix) * c + c0;
#pragma omp simd
            for (int j = 0; j < n; ++j) {
              const float value = v[j];
              const bool take = value > best[j] || value != value;  // NaN takes over
              best[j] = take ? value : best[j];
              arg[j] = take ? tap : arg[j];
            }
          }
        const float* g = dy + (int64_t{oy} * out_w + ox) * c + c0;
        tap = 0.0f;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix, tap += 1.0f) {
            float* d = dx + (int64_t{iy} * w + ix) * c + c0;
#pragma omp simd
            for (int j = 0; j < n; ++j) {
              const float gradient = g[j];
              d[j] += arg[j] == tap ? gradient : 0.0f;
            }
          }
      }
    }
}

void channel_sums(int h, int w, PixelMap<const float> g, int n, float* out) {
  for (int j = 0; j < n; ++j) out[j] = 0.0f;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float* v = g.at(y, x);
#pragma omp simd
      for (int j = 0; j < n; ++j) out[j] += v[j];
    }
}

void relu_backward(int h, int w, PixelMap<const float> y, PixelMap<const float> dy, PixelMap<float> dx, int n) {
  for (int r = 0; r < h; ++r)
    for (int q = 0; q < w; ++q) {
      const float *out = y.at(r, q), *g = dy.at(r, q);
      float* d = dx.at(r, q);
      // Element j reads and writes only index j, so d may be g.
#pragma omp simd
      for (int j = 0; j < n; ++j) {
        const float gradient = g[j];
        d[j] = out[j] > 0.0f ? gradient : 0.0f;
      }
    }
}
