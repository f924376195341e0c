#include "train/fast_features.h"

#include <algorithm>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/x86/kernels_avx2.h"
#include "squeezenet/error.h"

namespace squeezenet::train {
namespace {

using avx2::ConvIO;
using Floats = avx2::AlignedFloats;

// One image's activations, NHWC, with its current size.
struct Map {
  Floats data;
  int h = 0, w = 0, c = 0;
};

avx2::PackedConv pack(const Model& m, const std::string& name, const Conv2dSpec& s) {
  return avx2::pack_conv(m.parameter(name + ".weight"), m.parameter(name + ".bias"), s.stride);
}

// A padding-0 conv + ReLU over a dense NHWC map.
Map conv(const avx2::PackedConv& pc, const Map& x) {
  Map y;
  y.h = static_cast<int>(conv_output_size(x.h, pc.kernel, pc.stride, 0));
  y.w = static_cast<int>(conv_output_size(x.w, pc.kernel, pc.stride, 0));
  y.c = pc.out_channels;
  y.data.resize(static_cast<std::size_t>(y.h) * y.w * y.c);
  const ConvIO io{x.data.data(), x.c, int64_t{x.w} * x.c, y.data.data(), y.c, int64_t{y.w} * y.c, y.h, y.w};
  avx2::conv_relu(pc, io, 0, io.pixels(), 0, pc.blocks());
  return y;
}

Map max_pool(const Map& x) {
  Map y;
  y.h = static_cast<int>(pool_output_size(x.h, 3, 2));
  y.w = static_cast<int>(pool_output_size(x.w, 3, 2));
  y.c = x.c;
  y.data.resize(static_cast<std::size_t>(y.h) * y.w * y.c);
  avx2::max_pool_3x3s2_ceil(x.data.data(), x.h, x.w, x.c, y.data.data(), 0, y.h);
  return y;
}

constexpr int kWinogradTile = 2;

struct FireConvs {
  avx2::PackedConv squeeze, e1;
  avx2::PackedWinograd e3;  // 3x3, stride 1, padding 1: Winograd F(2x2, 3x3)
};

// squeeze writes into a frame with a zero border, so that expand3x3 (padding 1) reads its padding from memory
// (Winograd tiles hanging over the bottom and right edges read a little further); both expands write their
// channel slices of the concatenated output.
Map fire(const FireConvs& f, const Map& x) {
  const int h = x.h, w = x.w, s = f.squeeze.out_channels;
  const int fh = (h + kWinogradTile - 1) / kWinogradTile * kWinogradTile + 2;
  const int fw = (w + kWinogradTile - 1) / kWinogradTile * kWinogradTile + 2;
  Floats frame(static_cast<std::size_t>(fh) * fw * s, 0.0f);
  float* interior = frame.data() + (int64_t{fw} + 1) * s;
  const ConvIO sq{x.data.data(), x.c, int64_t{w} * x.c, interior, s, int64_t{fw} * s, h, w};
  avx2::conv_relu(f.squeeze, sq, 0, sq.pixels(), 0, f.squeeze.blocks());
  Map y;
  y.h = h, y.w = w, y.c = f.e1.out_channels + f.e3.out_channels;
  y.data.resize(static_cast<std::size_t>(h) * w * y.c);
  const ConvIO e1{interior, s, int64_t{fw} * s, y.data.data(), y.c, int64_t{w} * y.c, h, w};
  avx2::conv_relu(f.e1, e1, 0, e1.pixels(), 0, f.e1.blocks());
  const ConvIO e3{frame.data(), s, int64_t{fw} * s, y.data.data() + f.e1.out_channels, y.c, int64_t{w} * y.c, h, w};
  Floats scratch(static_cast<std::size_t>(avx2::winograd_scratch_floats(f.e3)));
  avx2::winograd_relu(f.e3, e3, 0, avx2::winograd_tiles(kWinogradTile, h, w), scratch.data());
  return y;
}

}  // namespace

bool fast_features_available() { return kernels::has_avx2_fma(); }

Tensor fast_features(const Model& model, const Tensor& input) {
  if (!fast_features_available()) throw Error("fast_features: needs a CPU with AVX2 and FMA");
  check_input(model.config(), input.shape());
  // The layers of `features` in order: packed once for the batch.
  struct Step {
    Layer::Kind kind;
    avx2::PackedConv conv;
    FireConvs fire;
  };
  std::vector<Step> steps;
  for (const Layer& l : model.layers()) {
    if (l.name.starts_with("classifier.")) break;
    if (l.kind == Layer::Kind::Conv2d) {
      if (l.conv.padding != 0) throw Error("fast_features: a padded stem conv is not supported");
      steps.push_back({l.kind, pack(model, l.name, l.conv), {}});
    } else if (l.kind == Layer::Kind::Fire) {
      steps.push_back({l.kind, {}, {pack(model, l.name + ".squeeze", l.fire.squeeze_conv()),
                                    pack(model, l.name + ".expand1x1", l.fire.expand1x1_conv()),
                                    avx2::pack_winograd(model.parameter(l.name + ".expand3x3.weight"),
                                                        model.parameter(l.name + ".expand3x3.bias"),
                                                        kWinogradTile)}});
    } else if (l.kind == Layer::Kind::MaxPool2d) {
      steps.push_back({l.kind, {}, {}});
    }  // ReLU is fused into the convs; features hold no dropout
  }
  const int64_t N = input.dim(0), H = input.dim(2), W = input.dim(3);
  std::vector<Map> out(static_cast<std::size_t>(N));
#pragma omp parallel for schedule(dynamic)
  for (int64_t n = 0; n < N; ++n) {
    Map x;
    x.h = static_cast<int>(H), x.w = static_cast<int>(W), x.c = 3;
    x.data.resize(static_cast<std::size_t>(3 * H * W));
    avx2::rgb_to_nhwc(input.data() + n * 3 * H * W, x.h, x.w, x.data.data(), 0, x.h);
    for (const Step& s : steps) {
      switch (s.kind) {
        case Layer::Kind::Conv2d: x = conv(s.conv, x); break;
        case Layer::Kind::Fire: x = fire(s.fire, x); break;
        default: x = max_pool(x); break;
      }
    }
    out[static_cast<std::size_t>(n)] = std::move(x);
  }
  const Map& m0 = out.front();
  Tensor y({N, m0.c, m0.h, m0.w});
  const int64_t hw = int64_t{m0.h} * m0.w;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t c = 0; c < m0.c; ++c) y[(n * m0.c + c) * hw + p] = out[static_cast<std::size_t>(n)].data[p * m0.c + c];
  return y;
}

}  // namespace squeezenet::train
