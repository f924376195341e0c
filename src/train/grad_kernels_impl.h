// The register tiles of grad_kernels.h, written once for every ISA. Included by grad_kernels_<isa>.cpp after
// its target pragma, inside that ISA's namespace and after its vector traits `Isa`:
//   the vector operations of src/kernels/x86/isa_<isa>.h (Vec, lanes, zero, load, broadcast, fmadd, add, store,
//   load_first, store_first), kMaxPanels (16-float panels side by side in a tile) and weight_rows(panels) (rows
//   of a weight_grad tile that many panels wide).
// No standard headers here: whatever this file instantiates is compiled for the ISA of the including file.

using V = Isa::Vec;
constexpr int kLanes = Isa::lanes, kVecs = 16 / kLanes;
constexpr int kInputRows = 6;          // pixels of an input_grad tile: their pointers stay in registers
constexpr int kGroupPixels = 48;       // input_grad: pixels whose input rows stay in cache while panels sweep
constexpr int64_t kChunkPixels = 128;  // weight_grad: pixels whose runs stay in cache while every tile sweeps them

// Lane loads and stores of one vector, the first `valid` lanes when Tail.
template <bool Tail>
inline V load_lanes(const float* p, int valid) {
  if constexpr (Tail) return Isa::load_first(p, valid);
  return Isa::load(p);
}
template <bool Tail>
inline void store_lanes(float* p, V v, int valid) {
  if constexpr (Tail) {
    Isa::store_first(p, v, valid);
  } else {
    Isa::store(p, v);
  }
}

struct WeightGrad {
  int h, w, m, n;
  PixelMap<const float> a, b;
  float* c;
  int64_t ldc;
};

// Rows [m0, m0 + MR) x panels [n0, n0 + 16 NP) of c over the pixel rows [y0, y1); Tail: the last panel is
// partial. add: onto what c holds, else over it.
template <int MR, int NP, bool Tail>
void weight_tile(const WeightGrad& g, int y0, int y1, int m0, int n0, bool add) {
  constexpr int NV = NP * kVecs;
  const int valid = g.n - n0;  // columns of this tile that exist, counted from its first lane
  V acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = Isa::zero();
  for (int y = y0; y < y1; ++y) {
    const float* a = g.a.at(y, 0) + m0;
    const float* b = g.b.at(y, 0) + n0;
    for (int x = 0; x < g.w; ++x, a += g.a.pixel, b += g.b.pixel) {
      V bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = load_lanes<Tail>(b + v * kLanes, valid - v * kLanes);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const V av = Isa::broadcast(a + r);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[r][v] = Isa::fmadd(av, bv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    float* c = g.c + (m0 + r) * g.ldc + n0;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      V out = acc[r][v];
      if (add) out = Isa::add(out, load_lanes<Tail>(c + v * kLanes, valid - v * kLanes));
      store_lanes<Tail>(c + v * kLanes, out, valid - v * kLanes);
    }
  }
}

// A tile of `rows` (runtime) rows, through the instantiation of that many.
template <int NP, bool Tail, int MR = Isa::weight_rows(NP)>
void weight_rows_tile(int rows, const WeightGrad& g, int y0, int y1, int m0, int n0, bool add) {
  if constexpr (MR > 1) {
    if (rows < MR) return weight_rows_tile<NP, Tail, MR - 1>(rows, g, y0, y1, m0, n0, add);
  }
  weight_tile<MR, NP, Tail>(g, y0, y1, m0, n0, add);
}

template <int NP>
void weight_panels(const WeightGrad& g, int y0, int y1, int n0, bool add) {
  constexpr int kRows = Isa::weight_rows(NP);
  const bool tail = g.n - n0 < NP * 16;
  for (int m0 = 0; m0 < g.m; m0 += kRows) {
    const int rows = g.m - m0 < kRows ? g.m - m0 : kRows;
    if (tail) {
      weight_rows_tile<NP, true>(rows, g, y0, y1, m0, n0, add);
    } else {
      weight_rows_tile<NP, false>(rows, g, y0, y1, m0, n0, add);
    }
  }
}

void run_weight_grad(const WeightGrad& g, bool accumulate) {
  const int chunk_rows = static_cast<int>(g.w >= kChunkPixels ? 1 : kChunkPixels / g.w);
  for (int y0 = 0; y0 < g.h; y0 += chunk_rows) {
    const int y1 = g.h - y0 < chunk_rows ? g.h : y0 + chunk_rows;
    const bool add = accumulate || y0 > 0;
    for (int n0 = 0; n0 < g.n; n0 += Isa::kMaxPanels * 16) {
      const int panels = (g.n - n0 + 15) / 16;
      switch (panels < Isa::kMaxPanels ? panels : Isa::kMaxPanels) {
        case 1: weight_panels<1>(g, y0, y1, n0, add); break;
        case 2: weight_panels<2 <= Isa::kMaxPanels ? 2 : 1>(g, y0, y1, n0, add); break;
        case 3: weight_panels<3 <= Isa::kMaxPanels ? 3 : 1>(g, y0, y1, n0, add); break;
        default: weight_panels<Isa::kMaxPanels>(g, y0, y1, n0, add); break;
      }
    }
  }
}

struct InputGrad {
  const float* in[kInputRows];
  float* out[kInputRows];
  int rows;  // pixels of this tile that exist; the others repeat the last one and are not stored
};

// Columns [0, 16 NP) of b's panel block at `panel` (rows `width` floats apart) for one tile of pixels; `valid`
// of its columns exist.
template <int NP>
void input_tile(const InputGrad& t, const Reduction& r, const float* panel, int width, int valid, bool add) {
  constexpr int NV = NP * kVecs;
  V acc[kInputRows][NV];
#pragma GCC unroll 8
  for (int j = 0; j < kInputRows; ++j)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[j][v] = Isa::zero();
  const float* w = panel;
  for (int s = 0; s < r.rows; ++s) {
    const float* p[kInputRows];
#pragma GCC unroll 8
    for (int j = 0; j < kInputRows; ++j) p[j] = t.in[j] + s * r.row_stride;
    for (int k = 0; k < r.run; ++k, w += width) {
      V bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = Isa::load(w + v * kLanes);
#pragma GCC unroll 8
      for (int j = 0; j < kInputRows; ++j) {
        const V x = Isa::broadcast(p[j] + k);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[j][v] = Isa::fmadd(x, bv[v], acc[j][v]);
      }
    }
  }
  for (int j = 0; j < t.rows; ++j)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      float* o = t.out[j] + v * kLanes;
      const int lanes = valid - v * kLanes;
      V out = acc[j][v];
      if (lanes >= kLanes) {
        if (add) out = Isa::add(out, Isa::load(o));
        Isa::store(o, out);
      } else if (lanes > 0) {
        if (add) out = Isa::add(out, Isa::load_first(o, lanes));
        Isa::store_first(o, out, lanes);
      }
    }
}

void run_input_grad(int h, int w, PixelMap<const float> in, const Reduction& r, const Panels& b, PixelMap<float> out,
                    bool add) {
  const int64_t pixels = int64_t{h} * w;
  InputGrad groups[kGroupPixels / kInputRows];
  for (int64_t g0 = 0; g0 < pixels; g0 += kGroupPixels) {
    const int count = static_cast<int>(pixels - g0 < kGroupPixels ? pixels - g0 : kGroupPixels);
    const int tiles = (count + kInputRows - 1) / kInputRows;
    for (int i = 0; i < count; ++i) {
      const int64_t q = g0 + i, y = q / w, x = q % w;
      groups[i / kInputRows].in[i % kInputRows] = in.at(y, x);
      groups[i / kInputRows].out[i % kInputRows] = out.at(y, x);
    }
    for (int t = 0; t < tiles; ++t) {
      InputGrad& tile = groups[t];
      tile.rows = count - t * kInputRows < kInputRows ? count - t * kInputRows : kInputRows;
      for (int j = tile.rows; j < kInputRows; ++j) tile.in[j] = tile.in[tile.rows - 1];
    }
    for (int n0 = 0; n0 < b.n; n0 += Isa::kMaxPanels * 16) {
      const float* panel = b.data.data() + (n0 / b.width * int64_t{b.k}) * b.width + n0 % b.width;
      const int valid = b.n - n0;
      const int panels = (valid + 15) / 16 < Isa::kMaxPanels ? (valid + 15) / 16 : Isa::kMaxPanels;
      for (int t = 0; t < tiles; ++t) {
        InputGrad shifted = groups[t];
        for (int j = 0; j < shifted.rows; ++j) shifted.out[j] += n0;
        switch (panels) {
          case 1: input_tile<1>(shifted, r, panel, b.width, valid, add); break;
          case 2: input_tile<2 <= Isa::kMaxPanels ? 2 : 1>(shifted, r, panel, b.width, valid, add); break;
          case 3: input_tile<3 <= Isa::kMaxPanels ? 3 : 1>(shifted, r, panel, b.width, valid, add); break;
          default: input_tile<Isa::kMaxPanels>(shifted, r, panel, b.width, valid, add); break;
        }
      }
    }
  }
}
