// The bf16 kernel families: the rounding defined bit for bit, the reference bf16 kernels against the fp32 ones
// on bf16-rounded data (which checks the packing), the AVX512-BF16 kernels against the reference ones on odd
// shapes (long runs cut into pieces, odd runs, strides, partial tiles and blocks, work split as threads split
// it), the stem over stacked windows, bf16 Winograd likewise and against the fp32 conv, the bf16 activations
// between layers (read, written, pooled, rounded) against their fp32 definitions, and whole bf16 plans against
// the fp32 forward.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
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

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = bf16::round(v[i]);
  return out;
}

// The bf16 activations between layers (ConvIO::in_bf16, out_bf16): a conv reading bf16 input gives the bits it
// gives on that input in fp32 (both read the same pairs), and one writing bf16 writes its fp32 output rounded,
// into its channel slice only; pixels and blocks split as threads split them.
void check_bf16_activations(const x86::KernelTable& kt) {
  uint64_t seed = 500;
  for (const ConvCase& k : kConvCases) {
    SCOPED_TRACE(::testing::Message() << "C" << k.C << " O" << k.O << " K" << k.K << " s" << k.stride);
    const Tensor x = random_tensor({1, k.H, k.W, k.C}, ++seed, -2, 2);
    const Tensor w = random_tensor({k.O, k.C, k.K, k.K}, ++seed), b = random_tensor({k.O}, ++seed);
    const std::vector<float> in(x.data(), x.data() + x.numel());
    const std::vector<uint16_t> in_bf16 = to_bf16(in);
    avx2::PackedConv p = avx2::pack_conv(w, b, k.stride);
    bf16::pack(p);
    const int OH = (k.H - k.K) / k.stride + 1, OW = (k.W - k.K) / k.stride + 1, lead = 2, wide = k.O + 3;
    const int64_t pixels = int64_t{OH} * OW;
    const auto io = [&](bool bf16_in) {
      avx2::ConvIO io{bf16_in ? nullptr : in.data(), k.C, int64_t{k.W} * k.C, nullptr, wide, int64_t{OW} * wide,
                      OH, OW};
      if (bf16_in) io.in_bf16 = in_bf16.data();
      return io;
    };
    std::vector<float> want(static_cast<std::size_t>(pixels * wide), -7.0f);
    avx2::ConvIO fp32 = io(false);
    fp32.out = want.data() + lead;
    kt.conv_relu(p, fp32, 0, pixels, 0, p.blocks());
    std::vector<float> want_sums(static_cast<std::size_t>(k.O)), sums = want_sums;
    kt.conv_relu_channel_sums(p, fp32, 0, p.blocks(), want_sums.data());
    avx2::ConvIO from_bf16 = io(true);
    kt.conv_relu_channel_sums(p, from_bf16, 0, p.blocks(), sums.data());
    EXPECT_EQ(sums, want_sums);
    std::vector<float> got(want.size(), -7.0f);
    from_bf16.out = got.data() + lead;
    kt.conv_relu(p, from_bf16, 0, pixels, 0, p.blocks());
    EXPECT_EQ(got, want);

    std::vector<uint16_t> want_bf16(want.size(), bf16::round(-7.0f));
    for (int64_t i = 0; i < pixels; ++i)
      for (int o = lead; o < lead + k.O; ++o)
        want_bf16[static_cast<std::size_t>(i * wide + o)] = bf16::round(want[static_cast<std::size_t>(i * wide + o)]);
    const int64_t mid = std::min(pixels, (pixels / 2 + kt.tile_pixels - 1) / kt.tile_pixels * kt.tile_pixels);
    for (bool bf16_in : {false, true}) {
      SCOPED_TRACE(bf16_in ? "bf16 in, bf16 out" : "fp32 in, bf16 out");
      std::vector<uint16_t> out(want.size(), bf16::round(-7.0f));
      avx2::ConvIO to_bf16_out = io(bf16_in);
      to_bf16_out.out_bf16 = out.data() + lead;
      for (auto [p0, p1] : {std::pair<int64_t, int64_t>{0, mid}, {mid, pixels}})
        for (auto [b0, b1] : {std::pair{0, p.blocks() / 2}, {p.blocks() / 2, p.blocks()}})
          kt.conv_relu(p, to_bf16_out, p0, p1, b0, b1);
      EXPECT_EQ(out, want_bf16);
    }
  }
}

TEST(Bf16, ReferenceKernelsReadAndWriteBf16ActivationsAsRoundedFp32) {
  REQUIRE_AVX2();
  check_bf16_activations(x86::reference_bf16_kernels);
}

TEST(Bf16, Avx512Bf16KernelsReadAndWriteBf16ActivationsAsRoundedFp32) {
  REQUIRE_BF16();
  check_bf16_activations(x86::avx512bf16_kernels);
}

// Max-pool over bf16 ReLU outputs is the fp32 pool of the widened values, the fast family's the reference's, on
// odd sides and channel counts (vector and scalar channels), rows split as threads split them; the fast
// rounding is bf16::round on every kind of value.
TEST(Bf16, PoolAndRoundingOfBf16ActivationsMatchTheirDefinitions) {
  REQUIRE_AVX2();
  std::vector<const x86::KernelTable*> families{&x86::reference_bf16_kernels};
  if (kernels::has_avx512bf16()) families.push_back(&x86::avx512bf16_kernels);
  for (const auto& [h, w, c] : {std::array{1, 1, 1}, std::array{2, 3, 5}, std::array{13, 13, 64},
                                std::array{9, 14, 33}, std::array{27, 27, 96}, std::array{6, 7, 100}}) {
    SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c));
    const Tensor x = random_tensor({h, w, c}, static_cast<uint64_t>(h * 1000 + w * 10 + c), -1, 3);
    std::vector<float> in(static_cast<std::size_t>(x.numel()));
    for (int64_t i = 0; i < x.numel(); ++i) in[static_cast<std::size_t>(i)] = rounded(std::max(x[i], 0.0f));
    const std::vector<uint16_t> in_bf16 = to_bf16(in);
    const int oh = static_cast<int>(pool_output_size(h, 3, 2)), ow = static_cast<int>(pool_output_size(w, 3, 2));
    std::vector<float> want(static_cast<std::size_t>(oh * ow * c));
    avx2::max_pool_3x3s2_ceil_no_nan(in.data(), h, w, c, want.data(), 0, oh);
    for (const x86::KernelTable* kt : families) {
      SCOPED_TRACE(kt->family);
      std::vector<uint16_t> got(want.size(), 0xffff);
      kt->max_pool_bf16(in_bf16.data(), h, w, c, got.data(), 0, oh / 2);
      kt->max_pool_bf16(in_bf16.data(), h, w, c, got.data(), oh / 2, oh);
      EXPECT_EQ(got, to_bf16(want));
    }
  }
  std::vector<float> values{0.0f, -0.0f, 0x1p-140f, -0x1p-140f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f,
                            std::numeric_limits<float>::max(), -std::numeric_limits<float>::infinity(), 65504.0f};
  for (int i = 0; i < 40; ++i) values.push_back(std::ldexp(1.0f + 0.0137f * static_cast<float>(i), i - 20));
  for (const x86::KernelTable* kt : families)
    for (std::size_t n : {std::size_t{1}, std::size_t{16}, std::size_t{17}, values.size()}) {
      std::vector<uint16_t> got(values.size(), 0x1234), want = to_bf16(values);
      kt->round_bf16(values.data(), static_cast<int64_t>(n), got.data());
      std::fill(want.begin() + static_cast<std::ptrdiff_t>(n), want.end(), uint16_t{0x1234});
      EXPECT_EQ(got, want) << kt->family << ", " << n << " values";
    }
}

// The stem as a 1x1 conv over stacked windows (stem_windows.h): the stacking checked value for value against the
// image, stacked in two uneven pieces as threads cut it; the reference conv over the windows against the fp32
// direct conv on bf16 data (which checks the weights' window order), and `fast`, if any, against the reference
// on odd sides, kernels and channel counts, the pixels and blocks split as threads split them.
void check_stem_windows(const x86::KernelTable* fast) {
  for (const auto& [o, K, stride, h, w] : {std::array{64, 3, 2, 11, 9}, std::array{17, 7, 2, 15, 37},
                                           std::array{96, 7, 2, 16, 17}, std::array{5, 3, 2, 7, 33},
                                           std::array{33, 5, 3, 13, 10}, std::array{16, 1, 1, 3, 5}}) {
    SCOPED_TRACE(std::to_string(o) + " channels, kernel " + std::to_string(K) + " stride " + std::to_string(stride) +
                 ", " + std::to_string(h) + "x" + std::to_string(w));
    const uint64_t seed = static_cast<uint64_t>(o * 100 + w);
    const Tensor x = rounded(random_tensor({1, 3, h, w}, seed, -2.5, 2.5));
    const Tensor weight = rounded(random_tensor({o, 3, K, K}, seed + 1)), bias = random_tensor({o}, seed + 2);
    std::vector<float> image(static_cast<std::size_t>(h * w * 3));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < h * w; ++p) image[static_cast<std::size_t>(p * 3 + c)] = x[int64_t{c} * h * w + p];
    const int oh = (h - K) / stride + 1, ow = (w - K) / stride + 1;
    const int64_t row = int64_t{w} * K * 3;
    std::vector<float> stacked(static_cast<std::size_t>(oh * row), -7.0f);
    bf16::stack_windows(image.data(), w, K, stride, stacked.data(), row, 0, oh / 3 + 1);
    bf16::stack_windows(image.data(), w, K, stride, stacked.data(), row, oh / 3 + 1, oh);
    for (int y = 0; y < oh; ++y)
      for (int i = 0; i < w; ++i)
        for (int ky = 0; ky < K; ++ky)
          for (int c = 0; c < 3; ++c)
            ASSERT_EQ(stacked[static_cast<std::size_t>(y * row + (i * K + ky) * 3 + c)],
                      image[static_cast<std::size_t>(((y * stride + ky) * w + i) * 3 + c)])
                << "row " << y << " column " << i << " tap row " << ky << " channel " << c;

    avx2::PackedConv p = avx2::pack_conv(bf16::stem_weight(weight), bias, 1);
    bf16::pack(p);
    const auto run = [&](const x86::KernelTable& kt) {
      const int64_t pixels = int64_t{oh} * ow;
      std::vector<float> whole(static_cast<std::size_t>(pixels * o)), split = whole;
      const auto io = [&](std::vector<float>& out) {
        return avx2::ConvIO{stacked.data(), int64_t{stride} * K * 3, row, out.data(), o, int64_t{ow} * o, oh, ow};
      };
      kt.conv_relu(p, io(whole), 0, pixels, 0, p.blocks());
      const int64_t mid = std::min(pixels, (pixels / 2 + kt.tile_pixels - 1) / kt.tile_pixels * kt.tile_pixels);
      for (auto [p0, p1] : {std::pair<int64_t, int64_t>{0, mid}, {mid, pixels}})
        for (auto [b0, b1] : {std::pair{0, p.blocks() / 2}, {p.blocks() / 2, p.blocks()}})
          kt.conv_relu(p, io(split), p0, p1, b0, b1);
      EXPECT_EQ(whole, split);
      return whole;
    };
    const std::vector<float> reference = run(x86::reference_bf16_kernels);
    Tensor direct = ref::conv2d(x, weight, bias, stride, 0);
    ref::relu_(direct);
    std::vector<float> want(reference.size());
    for (int ch = 0; ch < o; ++ch)
      for (int64_t i = 0; i < int64_t{oh} * ow; ++i)
        want[static_cast<std::size_t>(i * o + ch)] = direct[int64_t{ch} * oh * ow + i];
    expect_close(reference, want, 1e-5);
    if (fast) expect_close(run(*fast), reference, 1e-5);
  }
}

TEST(Bf16, StemOverStackedWindowsIsTheDirectConvOnOddShapes) {
  REQUIRE_AVX2();
  check_stem_windows(nullptr);
}

TEST(Bf16, Avx512Bf16StemOverStackedWindowsMatchesTheReferenceOnOddShapes) {
  REQUIRE_BF16();
  check_stem_windows(&x86::avx512bf16_kernels);
}

struct WinogradCase {
  int tile, C, O, H, W;
};
const WinogradCase kWinogradCases[] = {
    {2, 1, 7, 1, 1},    {4, 1, 7, 1, 1},     {2, 5, 16, 2, 3},    {4, 13, 33, 5, 7},  {2, 17, 40, 13, 13},
    {4, 17, 40, 13, 13}, {2, 48, 192, 7, 9}, {4, 64, 64, 27, 27}, {4, 31, 70, 11, 6}, {2, 16, 64, 55, 55},
};

// A trained net's magnitudes (ReLU outputs in [0, 2], kaiming-sized weights) in a zero-bordered NHWC frame as
// the plan lays it out, and the conv's packed weights.
struct WinogradProblem {
  Tensor x, w, b;
  std::vector<float> frame;
  int64_t frame_w;
  WinogradProblem(const WinogradCase& k, uint64_t seed)
      : x(random_tensor({1, k.C, k.H, k.W}, seed, 0.0, 2.0)),
        w(random_tensor({k.O, k.C, 3, 3}, seed + 1, -std::sqrt(6.0 / (9 * k.C)), std::sqrt(6.0 / (9 * k.C)))),
        b(random_tensor({k.O}, seed + 2, -0.1, 0.1)),
        frame_w((k.W + k.tile - 1) / k.tile * k.tile + 2) {
    const int64_t frame_h = (k.H + k.tile - 1) / k.tile * k.tile + 2;
    frame.assign(static_cast<std::size_t>(frame_h * frame_w * k.C), 0.0f);
    for (int c = 0; c < k.C; ++c)
      for (int y = 0; y < k.H; ++y)
        for (int i = 0; i < k.W; ++i)
          frame[static_cast<std::size_t>(((y + 1) * frame_w + i + 1) * k.C + c)] = x[(int64_t{c} * k.H + y) * k.W + i];
  }
};

// winograd_relu into channels [2, 2 + O) of a wider output, whole and in the halves two threads would take (which
// must agree bit for bit), checking that nothing outside the slice is written; returns the slice, [pixel][O].
std::vector<float> run_winograd(const x86::KernelTable& kt, const avx2::PackedWinograd& p, const WinogradProblem& w,
                                const WinogradCase& k) {
  const int lead = 2, wide = k.O + 3;
  const int64_t tiles = avx2::winograd_tiles(k.tile, k.H, k.W), pixels = int64_t{k.H} * k.W;
  std::vector<float> whole(static_cast<std::size_t>(pixels * wide), -7.0f), split = whole;
  std::vector<float> scratch(static_cast<std::size_t>(avx2::winograd_scratch_floats(p)));
  const auto io = [&](std::vector<float>& out) {
    return avx2::ConvIO{w.frame.data(), k.C, w.frame_w * k.C, out.data() + lead, wide, int64_t{k.W} * wide, k.H, k.W};
  };
  kt.winograd_relu(p, io(whole), 0, tiles, scratch.data());
  const int64_t mid = std::min(tiles, (tiles / 2 + kt.tile_pixels - 1) / kt.tile_pixels * kt.tile_pixels);
  kt.winograd_relu(p, io(split), 0, mid, scratch.data());
  kt.winograd_relu(p, io(split), mid, tiles, scratch.data());
  EXPECT_EQ(whole, split);
  std::vector<float> slice;
  for (int64_t i = 0; i < pixels; ++i)
    for (int o = 0; o < wide; ++o) {
      const float v = whole[static_cast<std::size_t>(i * wide + o)];
      if (o >= lead && o < lead + k.O)
        slice.push_back(v);
      else
        EXPECT_EQ(v, -7.0f) << "wrote outside its slice at pixel " << i << " channel " << o;
    }
  return slice;
}

avx2::PackedWinograd bf16_winograd(const WinogradProblem& w, int tile) {
  avx2::PackedWinograd p = avx2::pack_winograd(w.w, w.b, tile);
  bf16::pack_winograd(p);
  return p;
}

// The reference bf16 Winograd is the fp32 conv but for the bf16 rounding of each transformed input and weight.
TEST(Bf16, ReferenceWinogradIsTheConvWithinBf16Rounding) {
  REQUIRE_AVX2();
  uint64_t seed = 300;
  for (const WinogradCase& k : kWinogradCases) {
    SCOPED_TRACE(::testing::Message() << "F(" << k.tile << ",3) C" << k.C << " O" << k.O << " " << k.H << "x" << k.W);
    const WinogradProblem w(k, seed += 3);
    Tensor want = ref::conv2d(w.x, w.w, w.b, 1, 1);
    ref::relu_(want);
    const std::vector<float> got = run_winograd(x86::reference_bf16_kernels, bf16_winograd(w, k.tile), w, k);
    double scale = 0.0, worst = 0.0;
    for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
    for (int o = 0; o < k.O; ++o)
      for (int64_t i = 0; i < int64_t{k.H} * k.W; ++i)
        worst = std::max(worst, static_cast<double>(std::fabs(got[static_cast<std::size_t>(i * k.O + o)] -
                                                               want[int64_t{o} * k.H * k.W + i])));
    // Measured worst: 0.5 % of the largest output for F(2x2), 3.9 % for F(4x4), whose transforms magnify the
    // roundings (bf16 plans run F(2x2): plan.cpp).
    EXPECT_LE(worst, (k.tile == 2 ? 0.01 : 0.06) * scale);
    EXPECT_GT(worst, 0.0) << "no rounding at all: are the panels bf16?";
  }
}

TEST(Bf16, Avx512Bf16WinogradMatchesTheReferenceOnOddShapes) {
  REQUIRE_BF16();
  uint64_t seed = 400;
  for (const WinogradCase& k : kWinogradCases) {
    SCOPED_TRACE(::testing::Message() << "F(" << k.tile << ",3) C" << k.C << " O" << k.O << " " << k.H << "x" << k.W);
    const WinogradProblem w(k, seed += 3);
    const avx2::PackedWinograd p = bf16_winograd(w, k.tile);
    expect_close(run_winograd(x86::avx512bf16_kernels, p, w, k), run_winograd(x86::reference_bf16_kernels, p, w, k),
                 1e-5);
  }
}

// Winograd writing bf16 activations writes its fp32 output rounded, into its slice only.
TEST(Bf16, WinogradWritesBf16ActivationsAsRoundedFp32) {
  REQUIRE_AVX2();
  std::vector<const x86::KernelTable*> families{&x86::reference_bf16_kernels};
  if (kernels::has_avx512bf16()) families.push_back(&x86::avx512bf16_kernels);
  uint64_t seed = 600;
  for (const WinogradCase& k : kWinogradCases) {
    SCOPED_TRACE(::testing::Message() << "F(" << k.tile << ",3) C" << k.C << " O" << k.O << " " << k.H << "x" << k.W);
    const WinogradProblem w(k, seed += 3);
    const avx2::PackedWinograd p = bf16_winograd(w, k.tile);
    const int lead = 2, wide = k.O + 3;
    const int64_t tiles = avx2::winograd_tiles(k.tile, k.H, k.W), pixels = int64_t{k.H} * k.W;
    std::vector<float> scratch(static_cast<std::size_t>(avx2::winograd_scratch_floats(p)));
    for (const x86::KernelTable* kt : families) {
      SCOPED_TRACE(kt->family);
      const std::vector<float> slice = run_winograd(*kt, p, w, k);
      std::vector<uint16_t> want(static_cast<std::size_t>(pixels * wide), 0xffff), got = want;
      for (int64_t i = 0; i < pixels; ++i)
        for (int o = 0; o < k.O; ++o)
          want[static_cast<std::size_t>(i * wide + lead + o)] = bf16::round(slice[static_cast<std::size_t>(i * k.O + o)]);
      avx2::ConvIO io{w.frame.data(), k.C, w.frame_w * k.C, nullptr, wide, int64_t{k.W} * wide, k.H, k.W};
      io.out_bf16 = got.data() + lead;
      const int64_t mid = std::min(tiles, (tiles / 2 + kt->tile_pixels - 1) / kt->tile_pixels * kt->tile_pixels);
      kt->winograd_relu(p, io, 0, mid, scratch.data());
      kt->winograd_relu(p, io, mid, tiles, scratch.data());
      EXPECT_EQ(got, want);
    }
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
    EXPECT_NE(std::string(e.what()).find("needs AVX512-BF16, which this CPU lacks"), std::string::npos) << e.what();
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
