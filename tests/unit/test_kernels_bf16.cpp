// The bf16 kernel families: the rounding defined bit for bit, the reference bf16 kernels against the fp32 ones
// on bf16-rounded data (which checks the packing), the AVX512-BF16 kernels against the reference ones on odd
// shapes (long runs cut into pieces, odd runs, strides, partial tiles and blocks, work split as threads split
// it), and whole bf16 plans against the fp32 forward.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/dispatch.h"
#include "kernels/reference/reference.h"
#include "kernels/x86/bf16.h"
#include "kernels/x86/kernel_table.h"
#include "model/forward_reference.h"
#include "model/plan.h"
#include "squeezenet/engine.h"
#include "squeezenet/error.h"
#include "random_tensor.h"

namespace squeezenet {
namespace {

using test::random_tensor;

#define REQUIRE_AVX2() \
  if (!kernels::has_avx2_fma()) GTEST_SKIP() << "this CPU has no AVX2+FMA (the reference bf16 family's pools)"
#define REQUIRE_BF16() \
  if (!kernels::has_avx512bf16()) GTEST_SKIP() << "this CPU lacks AVX512-BF16"

float rounded(float x) { return bf16::widen(bf16::round(x)); }
Tensor rounded(Tensor t) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rounded(t[i]);
  return t;
}

TEST(Bf16, RoundsToNearestEvenLikeTheHardware) {
  const auto bits = [](float x) { return bf16::round(x); };
  EXPECT_EQ(bits(1.0f), 0x3f80);
  EXPECT_EQ(bits(1.0f + 0x1p-8f), 0x3f80);         // a tie goes to the even neighbour, down
  EXPECT_EQ(bits(1.0f + 3 * 0x1p-8f), 0x3f82);     // and here up
  EXPECT_EQ(bits(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);  // past the tie, up
  EXPECT_EQ(bits(-2.5f), 0xc020);
  EXPECT_EQ(bits(0x1p-140f), 0x0000);   // a denormal becomes zero...
  EXPECT_EQ(bits(-0x1p-140f), 0x8000);  // ...of its sign
  EXPECT_EQ(bits(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to infinity
  EXPECT_EQ(bits(-std::numeric_limits<float>::infinity()), 0xff80);
  const uint16_t nan = bits(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(bf16::widen(nan)));
  EXPECT_TRUE(nan & 0x40);
}

// A 1x1 conv of one channel with weight 1 passes each input through the family's rounding.
TEST(Bf16, Avx512Bf16RoundsInputsAsDefined) {
  REQUIRE_BF16();
  const std::vector<float> values{1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 3.1415926f, 0x1p-140f, 1e30f, 7.00390625f,
                                  65504.0f, 1.0f + 0x1p-8f + 0x1p-20f, 0.3f, 12345.678f, 2.0f, 1e-20f};
  const int n = static_cast<int>(values.size());
  avx2::PackedConv p = avx2::pack_conv(Tensor({1, 1, 1, 1}, std::vector<float>{1.0f}.data()),
                                       Tensor({1}, std::vector<float>{0.0f}.data()), 1);
  bf16::pack(p);
  std::vector<float> out(static_cast<std::size_t>(n));
  const avx2::ConvIO io{values.data(), 1, n, out.data(), 1, n, 1, n};
  x86::avx512bf16_kernels.conv_relu(p, io, 0, n, 0, 1);
  for (int i = 0; i < n; ++i) EXPECT_EQ(out[static_cast<std::size_t>(i)], rounded(values[i])) << values[i];
}

TEST(Bf16, PeakLoopRuns) {
  REQUIRE_BF16();
  EXPECT_GT(x86::avx512bf16_kernels.peak_gflops(0.01), 0.1);
}

struct ConvCase {
  int C, O, K, stride, H, W;  // the input is a frame of H x W pixels, padding included
};
const ConvCase kConvCases[] = {
    {1, 1, 1, 1, 1, 1},      {3, 17, 3, 2, 9, 7},     {3, 96, 7, 2, 15, 12},  {5, 7, 1, 1, 3, 11},
    {13, 16, 3, 1, 7, 6},    {23, 33, 3, 1, 4, 11},   {17, 40, 1, 1, 6, 6},   {133, 10, 1, 1, 5, 5},
    {64, 64, 3, 1, 9, 10},   {35, 50, 1, 1, 13, 13},  {48, 192, 3, 1, 6, 5},  {8, 5, 3, 2, 3, 4},
};

// Runs conv_relu whole and in the pieces two threads would take (which must agree bit for bit) and
// conv_relu_channel_sums; returns [pixels][O] outputs then O sums.
std::vector<float> run_conv(const x86::KernelTable& kt, const avx2::PackedConv& p, const std::vector<float>& in,
                            const ConvCase& k) {
  const int OH = (k.H - k.K) / k.stride + 1, OW = (k.W - k.K) / k.stride + 1;
  const int64_t pixels = int64_t{OH} * OW;
  std::vector<float> whole(static_cast<std::size_t>(pixels * k.O + k.O), -7.0f), split = whole;
  auto io_for = [&](std::vector<float>& out) {
    return avx2::ConvIO{in.data(), k.C, int64_t{k.W} * k.C, out.data(), k.O, int64_t{OW} * k.O, OH, OW};
  };
  kt.conv_relu(p, io_for(whole), 0, pixels, 0, p.blocks());
  const int64_t mid = std::min(pixels, (pixels / 2 + kt.tile_pixels - 1) / kt.tile_pixels * kt.tile_pixels);
  const int bmid = p.blocks() / 2;
  for (auto [p0, p1] : {std::pair<int64_t, int64_t>{0, mid}, {mid, pixels}})
    for (auto [b0, b1] : {std::pair{0, bmid}, {bmid, p.blocks()}}) kt.conv_relu(p, io_for(split), p0, p1, b0, b1);
  EXPECT_EQ(whole, split);
  kt.conv_relu_channel_sums(p, io_for(whole), 0, p.blocks(), whole.data() + pixels * k.O);
  return whole;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tolerance * (1.0 + std::fabs(want[i]))) << "at " << i;
}

// On inputs and weights already bf16, the reference bf16 kernels are the fp32 kernels: the packing is right.
TEST(Bf16, ReferenceKernelsAreTheFp32OnesOnBf16Data) {
  REQUIRE_AVX2();
  uint64_t seed = 100;
  for (const ConvCase& k : kConvCases) {
    SCOPED_TRACE(::testing::Message() << "C" << k.C << " O" << k.O << " K" << k.K << " s" << k.stride);
    const Tensor x = rounded(random_tensor({1, k.H, k.W, k.C}, ++seed, -2, 2));
    const Tensor w = rounded(random_tensor({k.O, k.C, k.K, k.K}, ++seed)), b = random_tensor({k.O}, ++seed);
    const std::vector<float> in(x.data(), x.data() + x.numel());
    const avx2::PackedConv fp32 = avx2::pack_conv(w, b, k.stride);
    avx2::PackedConv p = fp32;
    bf16::pack(p);
    expect_close(run_conv(x86::reference_bf16_kernels, p, in, k), run_conv(*kernels::fastest_kernels(), fp32, in, k),
                 1e-5);
  }
}

TEST(Bf16, Avx512Bf16KernelsMatchTheReferenceOnOddShapes) {
  REQUIRE_BF16();
  uint64_t seed = 200;
  for (const ConvCase& k : kConvCases) {
    SCOPED_TRACE(::testing::Message() << "C" << k.C << " O" << k.O << " K" << k.K << " s" << k.stride);
    const Tensor x = random_tensor({1, k.H, k.W, k.C}, ++seed, -2, 2);
    const Tensor w = random_tensor({k.O, k.C, k.K, k.K}, ++seed), b = random_tensor({k.O}, ++seed);
    const std::vector<float> in(x.data(), x.data() + x.numel());
    avx2::PackedConv p = avx2::pack_conv(w, b, k.stride);
    bf16::pack(p);
    expect_close(run_conv(x86::avx512bf16_kernels, p, in, k), run_conv(x86::reference_bf16_kernels, p, in, k), 1e-5);
  }
}

Model model_of(Arch arch) {
  ModelConfig config;
  config.arch = arch;
  config.num_classes = 10;
  return Model(config, 7);
}

// A whole bf16 plan: close to fp32 (bf16 keeps 8 bits), the same for any thread count, and near across
// families: their sums differ in the last fp32 bits, which now and then rounds an activation to the next bf16
// (0.4 % apart), and that carries on through the layers.
TEST(Bf16, PlansAreNearFp32AndAgreeAcrossFamiliesAndThreads) {
  REQUIRE_AVX2();
  std::vector<const x86::KernelTable*> families{&x86::reference_bf16_kernels};
  if (kernels::has_avx512bf16()) families.push_back(&x86::avx512bf16_kernels);
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    SCOPED_TRACE(arch_name(arch));
    const Model model = model_of(arch);
    const Tensor x = random_tensor({3, 3, 67, 61}, 5, -2, 2);
    const Tensor fp32 = forward_reference(model, x);
    double scale = 0.0;
    for (int64_t i = 0; i < fp32.numel(); ++i) scale = std::max(scale, static_cast<double>(std::fabs(fp32[i])));
    Tensor first;
    for (const x86::KernelTable* kt : families) {
      SCOPED_TRACE(kt->family);
      Tensor got({3, 10}), two_threads({3, 10});
      Plan(model, x.shape(), 1, kt).run(x.data(), got.data());
      Plan(model, x.shape(), 2, kt).run(x.data(), two_threads.data());
      EXPECT_EQ(max_abs_diff(got, two_threads), 0.0f);
      EXPECT_LE(max_abs_diff(got, fp32), 0.02 * scale);
      if (first.numel() == 0) first = got;
      EXPECT_LE(max_abs_diff(got, first), 0.01 * scale);
    }
  }
}

TEST(Bf16, EngineRefusesInOneLineWithoutAvx512Bf16) {
  if (kernels::has_avx512bf16()) GTEST_SKIP() << "this CPU has AVX512-BF16: nothing to refuse";
  const Model model = model_of(Arch::squeezenet1_1);
  try {
    Engine engine(model, EngineOptions{.precision = Precision::bf16});
    FAIL() << "a bf16 engine was built";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks AVX512-BF16"), std::string::npos) << e.what();
  }
}

TEST(Bf16, EngineNamesItsFamily) {
  REQUIRE_BF16();
  const Model model = model_of(Arch::squeezenet1_1);
  const Engine engine(model, EngineOptions{.threads = 1, .precision = Precision::bf16});
  EXPECT_EQ(engine.precision(), Precision::bf16);
  EXPECT_STREQ(engine.kernel_family(), "avx512bf16");
}

}  // namespace
}  // namespace squeezenet
