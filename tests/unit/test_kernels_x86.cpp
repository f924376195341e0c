// Every x86 kernel family this CPU runs (AVX2, AVX-512), and the whole fast plan on each, against the reference
// kernels on odd shapes: channel counts that are not multiples of 8 or 16, tiny and non-square images, partial
// tiles, work split as threads split it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/dispatch.h"
#include "kernels/reference/reference.h"
#include "kernels/x86/kernel_table.h"
#include "model/forward_reference.h"
#include "model/plan.h"
#include "squeezenet/error.h"
#include "random_tensor.h"

namespace squeezenet {
namespace {

#define REQUIRE_AVX2() \
  if (!kernels::has_avx2_fma()) GTEST_SKIP() << "this CPU has no AVX2+FMA"

// The kernel families this CPU can run.
std::vector<const x86::KernelTable*> runnable_kernels() {
  std::vector<const x86::KernelTable*> out;
  if (kernels::has_avx2_fma()) out.push_back(&x86::avx2_kernels);
  if (kernels::has_avx512()) out.push_back(&x86::avx512_kernels);
  return out;
}

class KernelsX86 : public ::testing::TestWithParam<const x86::KernelTable*> {};
std::string isa_name(const ::testing::TestParamInfo<const x86::KernelTable*>& info) { return info.param->isa; }
INSTANTIATE_TEST_SUITE_P(Isa, KernelsX86, ::testing::ValuesIn(runnable_kernels()), isa_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(KernelsX86);

using test::random_tensor;

// Image n of x [N, C, H, W] as NHWC inside a zero frame with `pad` pixels before the image and at least `pad`
// after it, more where `rows` / `cols` ask for a larger frame.
std::vector<float> nhwc_frame(const Tensor& x, int64_t n, int pad, int64_t rows = 0, int64_t cols = 0) {
  const int64_t C = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t FH = std::max(rows, H + 2 * pad), FW = std::max(cols, W + 2 * pad);
  std::vector<float> f(static_cast<std::size_t>(FH * FW * C), 0.0f);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t xx = 0; xx < W; ++xx)
        f[static_cast<std::size_t>(((y + pad) * FW + xx + pad) * C + c)] = x[((n * C + c) * H + y) * W + xx];
  return f;
}

struct ConvCase {
  int C, O, K, stride, pad, H, W;
};

const ConvCase kConvCases[] = {
    {1, 1, 1, 1, 0, 1, 1},   {3, 17, 3, 2, 0, 9, 7},  {3, 96, 7, 2, 0, 15, 12}, {5, 7, 1, 1, 0, 3, 11},
    {13, 16, 3, 1, 1, 5, 4}, {16, 33, 3, 1, 1, 2, 9}, {17, 40, 1, 1, 1, 6, 6},  {35, 10, 1, 1, 0, 13, 13},
    {64, 64, 3, 1, 1, 7, 8}, {8, 5, 3, 2, 1, 1, 2},
};

TEST_P(KernelsX86, ConvReluMatchesReferenceInAChannelSlice) {
  const x86::KernelTable& kt = *GetParam();
  uint64_t seed = 10;
  for (const ConvCase& k : kConvCases) {
    SCOPED_TRACE(::testing::Message() << "C" << k.C << " O" << k.O << " K" << k.K << " s" << k.stride << " p" << k.pad
                                      << " " << k.H << "x" << k.W);
    const int N = 2;
    const Tensor x = random_tensor({N, k.C, k.H, k.W}, ++seed), w = random_tensor({k.O, k.C, k.K, k.K}, ++seed),
                 b = random_tensor({k.O}, ++seed);
    Tensor want = ref::conv2d(x, w, b, k.stride, k.pad);
    ref::relu_(want);
    const int OH = static_cast<int>(want.dim(2)), OW = static_cast<int>(want.dim(3));
    const avx2::PackedConv p = avx2::pack_conv(w, b, k.stride);
    // The output is channels [3, 3 + O) of a tensor 5 channels wider; the rest must stay untouched.
    const int lead = 3, wide = k.O + 5;
    const float sentinel = -7.0f;
    for (int n = 0; n < N; ++n) {
      const std::vector<float> in = nhwc_frame(x, n, k.pad);
      std::vector<float> whole(static_cast<std::size_t>(OH * OW * wide), sentinel), split = whole;
      const int64_t FW = k.W + 2 * k.pad;
      auto io_for = [&](std::vector<float>& out) {
        return avx2::ConvIO{in.data(), k.C, FW * k.C, out.data() + lead, wide, int64_t{OW} * wide, OH, OW};
      };
      kt.conv_relu(p, io_for(whole), 0, int64_t{OH} * OW, 0, p.blocks());
      // The same work in the pieces two threads would take: pixel halves on a tile boundary, block halves.
      const int64_t mid = (int64_t{OH} * OW / 2 + kt.tile_pixels - 1) / kt.tile_pixels * kt.tile_pixels;
      const int bmid = p.blocks() / 2;
      for (auto [p0, p1] : {std::pair<int64_t, int64_t>{0, std::min<int64_t>(mid, OH * OW)}, {mid, OH * OW}})
        for (auto [b0, b1] : {std::pair{0, bmid}, {bmid, p.blocks()}})
          kt.conv_relu(p, io_for(split), p0, p1, b0, b1);
      ASSERT_EQ(whole, split);
      for (int o = 0; o < wide; ++o)
        for (int y = 0; y < OH; ++y)
          for (int xx = 0; xx < OW; ++xx) {
            const float got = whole[static_cast<std::size_t>((y * OW + xx) * wide + o)];
            if (o < lead || o >= lead + k.O)
              ASSERT_EQ(got, sentinel) << "wrote outside its slice at channel " << o;
            else
              ASSERT_NEAR(got, want[((int64_t{n} * k.O + o - lead) * OH + y) * OW + xx], 1e-4);
          }
    }
  }
}

// pixel_unit: a multiple of the register tile heights a conv's block groups run on (AVX-512: 8 rows for groups of 3
// blocks, 12 for 1 or 2; AVX2: 6), and a split there gives the unsplit result.
TEST_P(KernelsX86, PixelUnitIsAWholeNumberOfTiles) {
  const x86::KernelTable& kt = *GetParam();
  for (int blocks = 1; blocks <= 20; ++blocks) EXPECT_EQ(kt.tile_pixels % kt.pixel_unit(blocks), 0) << blocks;
  if (std::string(kt.isa) == "avx512") {
    EXPECT_EQ(kt.pixel_unit(1), 12);
    EXPECT_EQ(kt.pixel_unit(3), 8);
    EXPECT_EQ(kt.pixel_unit(4), 12);   // 2 + 2
    EXPECT_EQ(kt.pixel_unit(7), 24);   // 3 + 2 + 2: both heights
  } else {
    EXPECT_EQ(kt.pixel_unit(5), 6);
  }
  const Tensor x = random_tensor({1, 40, 13, 13}, 7), w = random_tensor({48, 40, 1, 1}, 8), b = random_tensor({48}, 9);
  const avx2::PackedConv p = avx2::pack_conv(w, b, 1);
  const std::vector<float> in = nhwc_frame(x, 0, 0);
  std::vector<float> whole(169 * 48), split(169 * 48);
  const auto io = [&](std::vector<float>& out) {
    return avx2::ConvIO{in.data(), 40, 13 * 40, out.data(), 48, 13 * 48, 13, 13};
  };
  kt.conv_relu(p, io(whole), 0, 169, 0, p.blocks());
  const int unit = kt.pixel_unit(p.blocks());
  for (int64_t p0 = 0; p0 < 169; p0 += unit)
    kt.conv_relu(p, io(split), p0, std::min<int64_t>(169, p0 + unit), 0, p.blocks());
  EXPECT_EQ(whole, split);
}

TEST_P(KernelsX86, WinogradMatchesReferenceConv3x3) {
  const x86::KernelTable& kt = *GetParam();
  uint64_t seed = 50;
  for (int tile : {2, 4})
    for (auto [C, O, H, W] :
         {std::tuple{1, 7, 1, 1}, {5, 16, 2, 3}, {16, 40, 5, 4}, {17, 33, 13, 13}, {64, 64, 9, 7}, {48, 192, 27, 27}}) {
      SCOPED_TRACE(::testing::Message() << "F(" << tile << ",3) C" << C << " O" << O << " " << H << "x" << W);
      // Weights and inputs of a trained net's magnitude: ReLU outputs in [0, 2], kaiming-sized weights.
      const double bound = std::sqrt(6.0 / (9 * C));
      const Tensor x = random_tensor({1, C, H, W}, ++seed, 0.0, 2.0),
                   w = random_tensor({O, C, 3, 3}, ++seed, -bound, bound), b = random_tensor({O}, ++seed, -0.1, 0.1);
      Tensor want = ref::conv2d(x, w, b, 1, 1);
      ref::relu_(want);
      const avx2::PackedWinograd p = avx2::pack_winograd(w, b, tile);
      const int64_t th = (H + tile - 1) / tile, tw = (W + tile - 1) / tile;
      const std::vector<float> in = nhwc_frame(x, 0, 1, th * tile + 2, tw * tile + 2);
      const int64_t FW = tw * tile + 2;
      const int lead = 2, wide = O + 3;
      std::vector<float> out(static_cast<std::size_t>(H * W * wide), -7.0f);
      std::vector<float> scratch(static_cast<std::size_t>(avx2::winograd_scratch_floats(p)));
      const avx2::ConvIO io{in.data(), C, FW * C, out.data() + lead, wide, int64_t{W} * wide, H, W};
      const int64_t tiles = avx2::winograd_tiles(tile, H, W);
      ASSERT_EQ(tiles, th * tw);
      kt.winograd_relu(p, io, 0, tiles / 2, scratch.data());
      kt.winograd_relu(p, io, tiles / 2, tiles, scratch.data());
      for (int o = 0; o < wide; ++o)
        for (int y = 0; y < H; ++y)
          for (int xx = 0; xx < W; ++xx) {
            const float got = out[static_cast<std::size_t>((y * W + xx) * wide + o)];
            if (o < lead || o >= lead + O)
              ASSERT_EQ(got, -7.0f) << "wrote outside its slice at channel " << o;
            else
              ASSERT_NEAR(got, want[(int64_t{o - lead} * H + y) * W + xx], 1e-4) << o << " " << y << " " << xx;
          }
    }
}

TEST_P(KernelsX86, ChannelSumsMatchReluThenGlobalAveragePool) {
  const x86::KernelTable& kt = *GetParam();
  for (auto [C, O, H, W] : {std::tuple{512, 1000, 13, 13}, {7, 10, 1, 3}, {33, 17, 5, 2}, {16, 16, 4, 4}}) {
    const Tensor x = random_tensor({1, C, H, W}, 1), w = random_tensor({O, C, 1, 1}, 2), b = random_tensor({O}, 3);
    Tensor y = ref::conv2d(x, w, b, 1, 0);
    ref::relu_(y);
    const Tensor want = ref::global_avg_pool(y);
    const avx2::PackedConv p = avx2::pack_conv(w, b, 1);
    const std::vector<float> in = nhwc_frame(x, 0, 0);
    std::vector<float> sums(static_cast<std::size_t>(O) + 1, -7.0f);
    const avx2::ConvIO io{in.data(), C, int64_t{W} * C, nullptr, 0, 0, H, W};
    kt.conv_relu_channel_sums(p, io, 0, p.blocks() / 2, sums.data());
    kt.conv_relu_channel_sums(p, io, p.blocks() / 2, p.blocks(), sums.data());
    EXPECT_EQ(sums[static_cast<std::size_t>(O)], -7.0f) << "wrote past out_channels";
    for (int o = 0; o < O; ++o) ASSERT_NEAR(sums[static_cast<std::size_t>(o)] / (H * W), want[o], 1e-4) << o;
  }
}

TEST_P(KernelsX86, MaxPoolMatchesReferenceIncludingNaN) {
  const x86::KernelTable& kt = *GetParam();
  // 1000 channels: more than one run of carried columns.
  for (auto [C, H, W] : {std::tuple{1, 3, 3}, {5, 4, 9}, {8, 6, 5}, {13, 7, 7}, {96, 11, 10}, {19, 3, 14}, {35, 5, 6},
                         {64, 2, 2}, {16, 1, 4}, {1000, 5, 4}}) {
    Tensor x = random_tensor({1, C, H, W}, 7);
    x[x.numel() / 2] = std::numeric_limits<float>::quiet_NaN();
    x[0] = std::numeric_limits<float>::quiet_NaN();
    const Tensor want = ref::max_pool2d_ceil(x, 3, 2);
    const int OH = static_cast<int>(want.dim(2)), OW = static_cast<int>(want.dim(3));
    const std::vector<float> in = nhwc_frame(x, 0, 0);
    std::vector<float> out(static_cast<std::size_t>(OH * OW * C));
    kt.max_pool_3x3s2_ceil(in.data(), H, W, C, out.data(), 0, OH / 2);
    kt.max_pool_3x3s2_ceil(in.data(), H, W, C, out.data(), OH / 2, OH);
    for (int c = 0; c < C; ++c)
      for (int y = 0; y < OH; ++y)
        for (int xx = 0; xx < OW; ++xx) {
          const float r = want[(int64_t{c} * OH + y) * OW + xx],
                      g = out[static_cast<std::size_t>((y * OW + xx) * C + c)];
          if (std::isnan(r))
            ASSERT_TRUE(std::isnan(g)) << c << " " << y << " " << xx;
          else
            ASSERT_EQ(g, r) << c << " " << y << " " << xx;
        }
    // The NaN-free variant, on the same input without its NaNs.
    x[x.numel() / 2] = 0.5f;
    x[0] = -0.5f;
    const Tensor want_finite = ref::max_pool2d_ceil(x, 3, 2);
    const std::vector<float> finite = nhwc_frame(x, 0, 0);
    kt.max_pool_3x3s2_ceil_no_nan(finite.data(), H, W, C, out.data(), 0, OH / 2);
    kt.max_pool_3x3s2_ceil_no_nan(finite.data(), H, W, C, out.data(), OH / 2, OH);
    for (int c = 0; c < C; ++c)
      for (int y = 0; y < OH; ++y)
        for (int xx = 0; xx < OW; ++xx)
          ASSERT_EQ(out[static_cast<std::size_t>((y * OW + xx) * C + c)], want_finite[(int64_t{c} * OH + y) * OW + xx]);
  }
}

TEST_P(KernelsX86, RgbToNhwcIsATransposeThatSpotsNonFiniteValues) {
  const x86::KernelTable& kt = *GetParam();
  for (int W : {7, 16, 37}) {  // a row in the scalar tail only, in vectors only, and both
    Tensor x = random_tensor({1, 3, 5, W}, 4);
    std::vector<float> out(static_cast<std::size_t>(3 * 5 * W));
    EXPECT_TRUE(kt.rgb_to_nhwc(x.data(), 5, W, out.data(), 0, 2));
    EXPECT_TRUE(kt.rgb_to_nhwc(x.data(), 5, W, out.data(), 2, 5));
    EXPECT_EQ(out, nhwc_frame(x, 0, 0)) << W;
    for (int at : {0, 2 * 5 * W + 3 * W + W - 1}) {  // red's first value; blue's row 3, last column
      Tensor bad = x;
      bad[at] = std::numeric_limits<float>::infinity();
      EXPECT_FALSE(kt.rgb_to_nhwc(bad.data(), 5, W, out.data(), 0, 5)) << W << " " << at;
      bad[at] = std::numeric_limits<float>::quiet_NaN();
      EXPECT_FALSE(kt.rgb_to_nhwc(bad.data(), 5, W, out.data(), 0, 5)) << W << " " << at;
      EXPECT_TRUE(kt.rgb_to_nhwc(bad.data(), 5, W, out.data(), at == 0 ? 1 : 0, at == 0 ? 5 : 3)) << "row not read";
    }
  }
}

TEST_P(KernelsX86, PeakIsPositive) { EXPECT_GT(GetParam()->peak_gflops(0.01), 0.1); }

struct NetCase {
  Arch arch;
  int classes, final_conv_pad, batch, threads, h, w;
};

class PlanX86 : public KernelsX86 {};
INSTANTIATE_TEST_SUITE_P(Isa, PlanX86, ::testing::ValuesIn(runnable_kernels()), isa_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PlanX86);

TEST_P(PlanX86, WholeNetworkMatchesForwardReference) {
  const NetCase cases[] = {
      {Arch::squeezenet1_0, 1000, 0, 1, 1, 224, 224}, {Arch::squeezenet1_1, 1000, 0, 1, 2, 224, 224},
      {Arch::squeezenet1_1, 10, 0, 5, 2, 61, 47},     {Arch::squeezenet1_0, 10, 1, 5, 1, 51, 64},
      {Arch::squeezenet1_0, 17, 0, 3, 2, 63, 63},     {Arch::squeezenet1_1, 1000, 1, 2, 2, 17, 17},
      {Arch::squeezenet1_1, 3, 0, 1, 2, 30, 95},      {Arch::squeezenet1_0, 1, 1, 2, 3, 35, 40},
  };
  uint64_t seed = 100;
  for (const NetCase& k : cases) {
    SCOPED_TRACE(::testing::Message() << arch_name(k.arch) << " classes " << k.classes << " pad " << k.final_conv_pad
                                      << " batch " << k.batch << " threads " << k.threads << " " << k.h << "x" << k.w);
    ModelConfig config;
    config.arch = k.arch;
    config.num_classes = k.classes;
    config.final_conv_pad = k.final_conv_pad;
    Model model(config, ++seed);
    // Non-zero biases, so that the padded head's relu(bias) border term is exercised.
    for (const std::string& name : model.parameter_names())
      if (name.ends_with(".bias"))
        model.parameter(name) = random_tensor(model.parameter(name).shape(), ++seed, -0.1, 0.1);
    const Tensor x = random_tensor({k.batch, 3, k.h, k.w}, ++seed, -2.0, 2.0);
    const Tensor want = forward_reference(model, x);
    Plan plan(model, x.shape(), k.threads, GetParam());
    Tensor got(want.shape());
    plan.run(x.data(), got.data());
    EXPECT_LE(max_abs_diff(got, want), 1e-4);
    Tensor again(want.shape());
    plan.run(x.data(), again.data());
    EXPECT_EQ(max_abs_diff(got, again), 0.0f) << "a second run differs";
  }
}

TEST_P(PlanX86, SmallestInputs) {
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    ModelConfig config;
    config.arch = arch;
    const Model model(config, 3);
    int smallest = 1;  // the smallest side the network accepts: one pixel is left after the last pool
    for (;; ++smallest) {
      try {
        check_input(config, {1, 3, smallest, smallest});
        break;
      } catch (const Error&) {
      }
    }
    const Tensor x = random_tensor({2, 3, smallest, smallest + 1}, 5);
    Plan plan(model, x.shape(), 2, GetParam());
    Tensor got({2, 1000});
    plan.run(x.data(), got.data());
    EXPECT_LE(max_abs_diff(got, forward_reference(model, x)), 1e-4) << arch_name(arch) << " " << smallest;
  }
}

// The fast ReLU turns a NaN into 0 (vmaxps returns its second operand), so the plan checks its input instead:
// an image with a NaN or an infinity gets NaN logits, as from PyTorch; the others in the batch are unharmed.
TEST_P(PlanX86, NonFiniteInputGivesNaNLogitsForThatImageOnly) {
  const Model model(ModelConfig{}, 4);
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    Tensor x = random_tensor({3, 3, 40, 40}, 6, -2.0, 2.0);
    x[1 * 3 * 40 * 40 + 2 * 40 * 40 + 17 * 40 + 5] = bad;  // image 1, blue, row 17
    Tensor got({3, 1000});
    Plan(model, x.shape(), 2, GetParam()).run(x.data(), got.data());
    const Tensor want = forward_reference(model, x);
    for (int64_t o = 0; o < 1000; ++o) {
      ASSERT_TRUE(std::isnan(got[1000 + o])) << o;
      ASSERT_TRUE(std::isnan(want[1000 + o]) || std::isinf(want[1000 + o])) << o;
      ASSERT_NEAR(got[o], want[o], 1e-4);
      ASSERT_NEAR(got[2000 + o], want[2000 + o], 1e-4);
    }
  }
}

// Each output is summed in the same order by both families (the tile shapes differ, the per-value order does
// not), so a model gives the same logits on every x86-64 machine.
TEST(PlanX86Families, Avx512AndAvx2GiveTheSameLogitsBitForBit) {
  if (!kernels::has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    ModelConfig config;
    config.arch = arch;
    config.num_classes = 37;
    const Model model(config, 8);
    const Tensor x = random_tensor({3, 3, 67, 71}, 9, -2.0, 2.0);
    Tensor a({3, 37}), b({3, 37});
    Plan(model, x.shape(), 2, &x86::avx2_kernels).run(x.data(), a.data());
    Plan(model, x.shape(), 2, &x86::avx512_kernels).run(x.data(), b.data());
    EXPECT_EQ(max_abs_diff(a, b), 0.0f) << arch_name(arch);
  }
}

TEST(PlanAvx2, ProfileNamesEveryStep) {
  REQUIRE_AVX2();
  const Model model(ModelConfig{}, 1);
  Plan plan(model, {1, 3, 64, 64}, 1);
  plan.set_profiling(true);
  const Tensor x = random_tensor({1, 3, 64, 64}, 2);
  Tensor y({1, 1000});
  plan.run(x.data(), y.data());
  int64_t macs = 0;
  for (const StepTime& s : plan.profile()) {
    EXPECT_GE(s.seconds, 0.0) << s.name;
    macs += s.macs;
  }
  int64_t want = 0;
  for (const LayerSummary& r : summarize(model.config(), 64, 64)) want += r.macs;
  EXPECT_EQ(macs, want);
  EXPECT_EQ(plan.profile().front().name, "input");
  EXPECT_EQ(plan.profile().back().name, "classifier.1");
}

}  // namespace
}  // namespace squeezenet
