// The int8 path: reference kernels against fp32 arithmetic, every int8 kernel family this CPU runs against the
// reference on odd shapes, the whole quantized network bit-identical across families and thread counts, and the
// quantized safetensors format.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "formats/readers.h"
#include "kernels/reference/int8.h"
#include "kernels/reference/reference.h"
#include "kernels/x86/int8_table.h"
#include "kernels/x86/int8_winograd.h"
#include "model/int8_plan.h"
#include "quant/epilogue.h"
#include "quant/observer.h"
#include "random_tensor.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

ref::U8Tensor random_u8(Shape shape, uint64_t seed) {
  Rng rng(seed);
  ref::U8Tensor t{shape, std::vector<uint8_t>(static_cast<std::size_t>(numel_of(shape)))};
  for (uint8_t& v : t.data) v = static_cast<uint8_t>(rng.next() % 256);
  return t;
}

// Uniform in [-top, top].
std::vector<int8_t> random_s8(int64_t n, uint64_t seed, int top = 127) {
  Rng rng(seed);
  std::vector<int8_t> w(static_cast<std::size_t>(n));
  for (int8_t& v : w) v = static_cast<int8_t>(static_cast<int>(rng.next() % (2 * top + 1)) - top);
  return w;
}

TEST(Int8Reference, ConvIsTheFp32ConvOfTheCenteredIntegers) {
  const ref::U8Tensor x = random_u8({2, 5, 7, 6}, 1);
  const std::vector<int8_t> w = random_s8(3 * 5 * 3 * 3, 2);
  Shape shape;
  const std::vector<int32_t> acc = ref::conv2d_u8s8(x, 128, w, 3, 3, 2, 1, shape);
  Tensor xf(x.shape), wf({3, 5, 3, 3}), bias({3});
  for (int64_t i = 0; i < xf.numel(); ++i) xf[i] = static_cast<float>(x.data[static_cast<std::size_t>(i)] - 128);
  for (int64_t i = 0; i < wf.numel(); ++i) wf[i] = w[static_cast<std::size_t>(i)];
  const Tensor y = ref::conv2d(xf, wf, bias, 2, 1);  // sums of integers below 2^24: exact in fp32
  ASSERT_EQ(shape, y.shape());
  for (int64_t i = 0; i < y.numel(); ++i) ASSERT_EQ(acc[static_cast<std::size_t>(i)], static_cast<int32_t>(y[i])) << i;
}

TEST(Int8Reference, RequantizeRoundsHalfToEvenAndSaturates) {
  EXPECT_EQ(ref::requantize(5, 0.5f, 0.0f), 2);   // 2.5 -> 2
  EXPECT_EQ(ref::requantize(7, 0.5f, 0.0f), 4);   // 3.5 -> 4
  EXPECT_EQ(ref::requantize(-9, 1.0f, 3.0f), 0);  // ReLU
  EXPECT_EQ(ref::requantize(1000, 1.0f, 0.0f), 255);
  EXPECT_EQ(ref::requantize(3, 1.0f, -0.5f), 2);  // 2.5 -> 2
  EXPECT_EQ(ref::quantize_input(-1e9f, 1.0f), 0);
  EXPECT_EQ(ref::quantize_input(0.5f, 1.0f), 128);  // 128.5 -> 128
  EXPECT_EQ(ref::quantize_input(1.5f, 1.0f), 130);  // 129.5 -> 130
  EXPECT_EQ(ref::dequantize_relu(-3, 1.0f, 1.0f), 0.0f);
  EXPECT_EQ(ref::dequantize_relu(3, 0.5f, 1.0f), 2.5f);
}

TEST(Int8Reference, MaxPoolTakesPyTorchsCeilWindows) {
  const ref::U8Tensor x = random_u8({1, 3, 8, 7}, 3);
  const ref::U8Tensor y = ref::max_pool2d_ceil_u8(x, 3, 2);
  Tensor xf(x.shape);
  for (int64_t i = 0; i < xf.numel(); ++i) xf[i] = x.data[static_cast<std::size_t>(i)];
  const Tensor yf = ref::max_pool2d_ceil(xf, 3, 2);
  ASSERT_EQ(y.shape, yf.shape());
  for (int64_t i = 0; i < yf.numel(); ++i) EXPECT_EQ(y.data[static_cast<std::size_t>(i)], yf[i]);
}

TEST(Calibration, RulesPickThresholdsInsideTheRange) {
  // Mostly small values and a few outliers: min/max keeps the outliers, percentile and KL clip them; MSE weighs
  // the outliers' clipping error against everyone's rounding error and may keep them.
  std::vector<float> v;
  Rng rng(4);
  for (int i = 0; i < 200000; ++i) v.push_back(static_cast<float>(std::fabs(rng.normal())));
  for (int i = 0; i < 5; ++i) v.push_back(40.0f + static_cast<float>(i));
  quant::Histogram h;
  h.add(v.data(), 100000);
  h.add(v.data() + 100000, static_cast<int64_t>(v.size()) - 100000);
  EXPECT_FLOAT_EQ(h.threshold(Calibration::minmax, 255), 44.0f);
  for (Calibration c : {Calibration::percentile, Calibration::kl}) {
    const double t = h.threshold(c, 255);
    EXPECT_GT(t, 2.0) << calibration_name(c);
    EXPECT_LT(t, 20.0) << calibration_name(c);
  }
  EXPECT_GT(h.threshold(Calibration::mse, 255), 2.0);
  EXPECT_LE(h.threshold(Calibration::mse, 255), 44.0);
  quant::Histogram zeros;
  const float z[3] = {0, 0, 0};
  zeros.add(z, 3);
  EXPECT_EQ(zeros.threshold(Calibration::kl, 255), 0.0);
  EXPECT_EQ(parse_calibration("mse"), Calibration::mse);
  EXPECT_THROW(parse_calibration("entropy"), Error);
}

// One conv with random weights and scales, as quantize() would make it.
QuantizedConv random_conv(int c, int o, int k, int stride, int pad, int zero_point, bool to_u8, uint64_t seed,
                          int top = 127, float u8_scale = 0.02f) {
  QuantizedConv q;
  q.name = "test";
  q.spec = {c, o, k, stride, pad};
  q.weight = random_s8(static_cast<int64_t>(o) * c * k * k, seed, top);
  Rng rng(seed + 1);
  for (int i = 0; i < o; ++i) {
    q.weight_scale.push_back(static_cast<float>(rng.uniform(0.001, 0.01)));
    q.bias.push_back(static_cast<float>(rng.uniform(-1.0, 1.0)));
  }
  q.input_scale = 0.05f;
  q.input_zero_point = zero_point;
  q.output_scale = to_u8 ? u8_scale : 0.0f;
  return q;
}

class Int8Family : public ::testing::TestWithParam<const x86::int8::KernelTable*> {
 protected:
  void SetUp() override {
    const auto here = x86::int8::families_here();
    if (std::find(here.begin(), here.end(), GetParam()) == here.end())
      GTEST_SKIP() << "this CPU lacks " << GetParam()->isa << " (or SQUEEZENET_ISA holds it back)";
  }
};
std::string family_name(const ::testing::TestParamInfo<const x86::int8::KernelTable*>& info) {
  std::string s = info.param->isa;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}
INSTANTIATE_TEST_SUITE_P(Isa, Int8Family,
                         ::testing::Values(&x86::int8::int8_avx512_vnni_kernels, &x86::int8::int8_avx2_vnni_kernels,
                                           &x86::int8::int8_avx2_kernels),
                         family_name);

// The family's conv on an NHWC copy of x (padded into a frame of zero points) against the reference, for all
// three outputs, the pixels (Winograd: the rows of output tiles) cut in two uneven pieces as threads cut them.
// Weights in [-top, top]: at 64 and below every pair fits vpmaddubsw's 16 bits, and at 32 and below every two quads'
// lane does, which the AVX2 family runs apart.
enum class Path { direct, winograd };
void check_conv(const x86::int8::KernelTable& k, int c, int o, int kernel, int stride, int pad, int h, int w,
                uint64_t seed, int top = 127, Path path = Path::direct, float u8_scale = 0.02f) {
  SCOPED_TRACE("c " + std::to_string(c) + " o " + std::to_string(o) + " k " + std::to_string(kernel) + " s " +
               std::to_string(stride) + " pad " + std::to_string(pad) + " " + std::to_string(h) + "x" +
               std::to_string(w) + " weights to " + std::to_string(top));
  const int zp = seed % 2 ? 128 : 0;
  const ref::U8Tensor x = random_u8({1, c, h, w}, seed);
  const int cs = (c + 3) / 4 * 4, fh = h + 2 * pad, fw = w + 2 * pad;
  std::vector<uint8_t> frame(static_cast<std::size_t>(fh * fw * cs), static_cast<uint8_t>(zp));
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h; ++y)
      for (int xx = 0; xx < w; ++xx)
        frame[static_cast<std::size_t>(((y + pad) * fw + xx + pad) * cs + ch)] =
            x.data[static_cast<std::size_t>((ch * h + y) * w + xx)];
  for (const auto kind : {x86::int8::ConvIO::Output::i32, x86::int8::ConvIO::Output::u8,
                          x86::int8::ConvIO::Output::f32}) {
    const bool to_u8 = kind == x86::int8::ConvIO::Output::u8;
    const QuantizedConv q = random_conv(c, o, kernel, stride, pad, zp, to_u8, seed + 7, top, u8_scale);
    Shape shape;
    const std::vector<int32_t> acc = ref::conv2d_u8s8(x, zp, q.weight, o, kernel, stride, pad, shape);
    const int oh = static_cast<int>(shape[2]), ow = static_cast<int>(shape[3]);
    x86::int8::PackedConv pc = x86::int8::pack(q, k.lanes, k.group_blocks);
    if (path == Path::winograd) {
      ASSERT_TRUE(x86::int8::winograd_fits(q));
      x86::int8::pack_winograd(q, k.lanes, pc);
    }
    if (top <= 64) {
      EXPECT_TRUE(pc.pairs_fit_16);
    }
    if (top <= 32) {
      EXPECT_TRUE(pc.quad_pairs_fit_16);
    }
    const int out_pixel = o + 3;  // a pixel stride wider than the channels, as in a Fire's shared output
    std::vector<uint8_t> out(static_cast<std::size_t>(oh * ow * out_pixel) * 4, 0xAB);
    const x86::int8::ConvIO io{frame.data(), static_cast<int64_t>(fw) * cs, cs, out.data(),
                               static_cast<int64_t>(ow) * out_pixel, out_pixel, ow, kind, oh};
    if (path == Path::winograd) {
      const int64_t rows = (oh + 1) / 2, cut = std::min<int64_t>(rows / 3 + 1, rows);
      k.winograd3x3(pc, io, 0, cut);
      k.winograd3x3(pc, io, cut, rows);
    } else {
      const int64_t cut = std::min<int64_t>(oh * ow / 3 + 1, oh * ow);
      k.conv(pc, io, 0, cut);
      k.conv(pc, io, cut, oh * ow);
    }
    const quant::Epilogue e = quant::epilogue(q);
    for (int ch = 0; ch < o; ++ch)
      for (int p = 0; p < oh * ow; ++p) {
        const int32_t a = acc[static_cast<std::size_t>(ch * oh * ow + p)];
        const std::size_t at = static_cast<std::size_t>(p * out_pixel + ch);
        if (kind == x86::int8::ConvIO::Output::i32) {
          int32_t v;
          std::memcpy(&v, out.data() + 4 * at, 4);
          ASSERT_EQ(v, a) << "channel " << ch << " pixel " << p;
        } else if (to_u8) {
          ASSERT_EQ(out[at], ref::requantize(a, e.multiplier[ch], e.offset[ch])) << "channel " << ch << " pixel " << p;
        } else {
          float v;
          std::memcpy(&v, out.data() + 4 * at, 4);
          ASSERT_EQ(v, ref::dequantize_relu(a, e.multiplier[ch], e.offset[ch])) << "channel " << ch << " pixel " << p;
        }
      }
    // Nothing written past the channels of a pixel.
    if (to_u8) {
      for (int p = 0; p < oh * ow; ++p)
        for (int ch = o; ch < out_pixel; ++ch) ASSERT_EQ(out[static_cast<std::size_t>(p * out_pixel + ch)], 0xAB);
    }
  }
}

TEST_P(Int8Family, ConvMatchesReferenceOnOddShapes) {
  const auto& k = *GetParam();
  check_conv(k, 3, 64, 3, 2, 0, 11, 9, 1);   // the stem of 1.1
  check_conv(k, 3, 17, 7, 2, 0, 15, 13, 2);  // 1.0's 7x7 stem, odd channels
  check_conv(k, 16, 64, 1, 1, 0, 5, 7, 3);
  check_conv(k, 13, 40, 3, 1, 1, 6, 5, 4);
  check_conv(k, 5, 1, 3, 1, 1, 4, 4, 5);
  check_conv(k, 32, 100, 1, 1, 0, 3, 3, 6);
  check_conv(k, 64, 256, 3, 1, 1, 3, 4, 7);
  check_conv(k, 20, 9, 1, 1, 1, 3, 2, 8);  // the Caffe head: a padded 1x1
}

TEST_P(Int8Family, ConvWithSevenBitWeightsMatchesReferenceOnOddShapes) {
  const auto& k = *GetParam();
  check_conv(k, 3, 64, 3, 2, 0, 11, 9, 1, 63);
  check_conv(k, 3, 17, 7, 2, 0, 15, 13, 2, 64);
  check_conv(k, 16, 64, 1, 1, 0, 5, 7, 3, 63);
  check_conv(k, 13, 40, 3, 1, 1, 6, 5, 4, 64);
  check_conv(k, 5, 1, 3, 1, 1, 4, 4, 5, 63);
  check_conv(k, 64, 256, 3, 1, 1, 3, 4, 7, 64);
  check_conv(k, 20, 9, 1, 1, 1, 3, 2, 8, 63);
}

// At 6 bits every four weights that two quads put in one 16-bit lane fit it, so the AVX2 family multiplies two
// quads a step; channel counts with an odd number of quads leave the last one to the one-quad loop.
TEST_P(Int8Family, ConvWithSixBitWeightsMatchesReferenceOnOddShapes) {
  const auto& k = *GetParam();
  check_conv(k, 3, 64, 3, 2, 0, 11, 9, 1, 31);
  check_conv(k, 3, 17, 7, 2, 0, 15, 13, 2, 32);
  check_conv(k, 16, 64, 1, 1, 0, 5, 7, 3, 31);
  check_conv(k, 20, 40, 1, 1, 0, 6, 5, 4, 32);  // 5 quads
  check_conv(k, 9, 1, 3, 1, 1, 4, 4, 5, 31);    // 3 quads a tap
  check_conv(k, 64, 256, 3, 1, 1, 3, 4, 7, 32);
  check_conv(k, 20, 9, 1, 1, 1, 3, 2, 8, 31);
}

// An output scale of 1e-12 sends most requantized values past 2^31 either way (multipliers about 2.5e8, offsets up
// to 1e12), where vcvtps2dq overflows: every family must still clamp them to 0 and 255 as the reference does.
TEST_P(Int8Family, EpilogueClampsAsTheReferenceFarOutOfRange) {
  const auto& k = *GetParam();
  check_conv(k, 16, 40, 1, 1, 0, 5, 7, 3, 127, Path::direct, 1e-12f);
  check_conv(k, 13, 20, 3, 1, 1, 6, 5, 4, 63, Path::direct, 1e-12f);
  if (k.winograd3x3) check_conv(k, 13, 20, 3, 1, 1, 5, 4, 4, 127, Path::winograd, 1e-12f);
}

// Winograd F(2x2, 3x3) of the 3x3 expands, exact: odd and even maps down to 1x1, channels off the vector widths
// and up to the 128 it admits, 8- and 7-bit weights.
TEST_P(Int8Family, WinogradMatchesReferenceOnOddShapes) {
  const auto& k = *GetParam();
  if (!k.winograd3x3) GTEST_SKIP() << k.isa << " runs 3x3 convs direct";
  for (const int top : {127, 63}) {
    check_conv(k, 16, 64, 3, 1, 1, 11, 13, 2, top, Path::winograd);
    check_conv(k, 13, 20, 3, 1, 1, 5, 4, 4, top, Path::winograd);
    check_conv(k, 64, 256, 3, 1, 1, 3, 4, 6, top, Path::winograd);
    check_conv(k, 4, 9, 3, 1, 1, 1, 1, 8, top, Path::winograd);
    check_conv(k, 48, 17, 3, 1, 1, 7, 6, 10, top, Path::winograd);
    check_conv(k, 128, 24, 3, 1, 1, 3, 5, 12, top, Path::winograd);
    check_conv(k, 32, 40, 3, 1, 1, 14, 2, 14, top, Path::winograd);
  }
}

// The largest sums Winograd admits: 128 channels of all-255 inputs against weights all +127 (and all -127) reach
// |U| = 9 x 127 and |V| = 4 x 255 at the middle positions, the bound int8_winograd.h states.
TEST_P(Int8Family, WinogradIsExactAtItsLargestSums) {
  const auto& k = *GetParam();
  if (!k.winograd3x3) GTEST_SKIP() << k.isa << " runs 3x3 convs direct";
  const int c = x86::int8::kWinogradMaxChannels, o = 16, h = 5, w = 4;
  const ref::U8Tensor x{{1, c, h, w}, std::vector<uint8_t>(static_cast<std::size_t>(c * h * w), 255)};
  QuantizedConv q = random_conv(c, o, 3, 1, 1, 0, false, 3);
  for (std::size_t i = 0; i < q.weight.size(); ++i) q.weight[i] = i / (q.weight.size() / o) % 2 ? -127 : 127;
  x86::int8::PackedConv pc = x86::int8::pack(q, k.lanes, k.group_blocks);
  x86::int8::pack_winograd(q, k.lanes, pc);
  Shape shape;
  const std::vector<int32_t> acc = ref::conv2d_u8s8(x, 0, q.weight, o, 3, 1, 1, shape);
  std::vector<uint8_t> frame(static_cast<std::size_t>((h + 2) * (w + 2) * c), 0);
  for (int y = 1; y <= h; ++y)
    for (int xx = 1; xx <= w; ++xx)
      std::fill_n(frame.begin() + ((y * (w + 2) + xx) * c), c, uint8_t{255});
  std::vector<int32_t> out(static_cast<std::size_t>(h * w * o));
  const x86::int8::ConvIO io{frame.data(), int64_t{w + 2} * c, c, out.data(), int64_t{w} * o, o, w,
                             x86::int8::ConvIO::Output::i32, h};
  k.winograd3x3(pc, io, 0, (h + 1) / 2);
  for (int ch = 0; ch < o; ++ch)
    for (int p = 0; p < h * w; ++p)
      ASSERT_EQ(out[static_cast<std::size_t>(p * o + ch)], acc[static_cast<std::size_t>(ch * h * w + p)])
          << "channel " << ch << " pixel " << p;
  EXPECT_EQ(std::abs(acc[static_cast<std::size_t>(w + 1)]), c * 9 * 255 * 127);  // an inner pixel's full window
}

// The family's 1x1 conv `q` (packed as pc) on a 2 x 3 map of all-255 inputs against the reference's sums.
void expect_exact_on_255s(const x86::int8::KernelTable& k, const QuantizedConv& q, const x86::int8::PackedConv& pc) {
  const int c = q.spec.in_channels, o = q.spec.out_channels;
  const ref::U8Tensor x{{1, c, 2, 3}, std::vector<uint8_t>(static_cast<std::size_t>(c * 6), 255)};
  Shape shape;
  const std::vector<int32_t> acc = ref::conv2d_u8s8(x, 0, q.weight, o, 1, 1, 0, shape);
  std::vector<int32_t> out(static_cast<std::size_t>(o * 6));
  const x86::int8::ConvIO io{x.data.data(), 3 * c, c, out.data(), 3 * o, o, 3, x86::int8::ConvIO::Output::i32};
  k.conv(pc, io, 0, 6);
  for (int ch = 0; ch < o; ++ch)
    for (int p = 0; p < 6; ++p)
      ASSERT_EQ(out[static_cast<std::size_t>(p * o + ch)], acc[static_cast<std::size_t>(ch * 6 + p)])
          << "channel " << ch << " pixel " << p;
}

// Pairs at vpmaddubsw's edge (|w0| + |w1| = 128) against all-255 inputs sum to +-32640 and stay exact; one pair
// past it sends the conv to the widening path, which stays exact too.
TEST_P(Int8Family, ConvIsExactAtThePairSaturationEdge) {
  const auto& k = *GetParam();
  const int c = 8, o = 9;
  const std::array<std::array<int8_t, 2>, 5> edge{{{64, 64}, {-64, -64}, {127, 1}, {-1, -127}, {100, 28}}};
  for (const bool past : {false, true}) {
    SCOPED_TRACE(past ? "one pair past the edge" : "every pair at the edge");
    QuantizedConv q = random_conv(c, o, 1, 1, 0, 0, false, 11);
    for (int i = 0; i < o * c / 2; ++i) {
      const auto& pair = edge[static_cast<std::size_t>(i) % edge.size()];
      q.weight[static_cast<std::size_t>(2 * i)] = pair[0];
      q.weight[static_cast<std::size_t>(2 * i + 1)] = pair[1];
    }
    if (past) q.weight[0] = 127, q.weight[1] = 2;
    const x86::int8::PackedConv pc = x86::int8::pack(q, k.lanes, k.group_blocks);
    EXPECT_EQ(pc.pairs_fit_16, !past);
    expect_exact_on_255s(k, q, pc);
  }
}

// Quads of four weights at the edge of one 16-bit lane (|w0| + |w1| + |w2| + |w3| = 128, two vpmaddubsw results
// of +-32640 in all) against all-255 inputs stay exact two quads a step; one quad past it sends the conv back to a
// quad a step, exact too.
TEST_P(Int8Family, ConvIsExactAtTheQuadPairEdge) {
  const auto& k = *GetParam();
  const int c = 16, o = 9;
  for (const bool past : {false, true}) {
    SCOPED_TRACE(past ? "one quad past the edge" : "every quad at the edge");
    QuantizedConv q = random_conv(c, o, 1, 1, 0, 0, false, 12);
    // One lane takes channels 0, 1, 4, 5 of each eight (50 + 40 + 30 + 8), the other 2, 3, 6, 7 (100 + 20 + 4 + 4).
    const std::array<int8_t, 8> weights{50, 40, 100, 20, 30, 8, 4, 4};
    for (int ch = 0; ch < o; ++ch)
      for (int i = 0; i < c; ++i)
        q.weight[static_cast<std::size_t>(ch * c + i)] =
            static_cast<int8_t>((ch % 2 ? -1 : 1) * weights[static_cast<std::size_t>(i % 8)]);
    if (past) q.weight[5] = 9;  // 129 in its lane; its pair, 30 + 9, still fits
    const x86::int8::PackedConv pc = x86::int8::pack(q, k.lanes, k.group_blocks);
    EXPECT_TRUE(pc.pairs_fit_16);
    EXPECT_EQ(pc.quad_pairs_fit_16, !past);
    expect_exact_on_255s(k, q, pc);
  }
}

// The stem as a 1x1 conv over stacked windows: the family's stacking against the plain one byte for byte, then
// the family's conv on it against the reference conv of the image, on odd sides (widths off the 16-column
// vectors) and output channels off the vector width, the rows cut in two uneven pieces as threads cut them;
// 8-, 7- and 6-bit weights.
TEST_P(Int8Family, StemOverStackedWindowsMatchesReferenceOnOddShapes) {
  const auto& k = *GetParam();
  for (const auto& [o, kernel, h, w, top] :
       {std::array{64, 3, 11, 9, 127}, std::array{17, 7, 15, 37, 127}, std::array{96, 7, 16, 17, 127},
        std::array{5, 3, 7, 33, 127}, std::array{64, 3, 11, 9, 63}, std::array{17, 7, 15, 37, 63},
        std::array{64, 3, 11, 9, 31}, std::array{17, 7, 15, 37, 32}}) {
    SCOPED_TRACE(std::to_string(o) + " channels, kernel " + std::to_string(kernel) + ", " + std::to_string(h) + "x" +
                 std::to_string(w) + ", weights to " + std::to_string(top));
    const int stride = 2, zp = 128;
    const ref::U8Tensor x = random_u8({1, 3, h, w}, static_cast<uint64_t>(o + w));
    std::vector<uint8_t> image(static_cast<std::size_t>(4 * h * w), static_cast<uint8_t>(zp));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < h * w; ++p)
        image[static_cast<std::size_t>(4 * p + c)] = x.data[static_cast<std::size_t>(c * h * w + p)];
    const QuantizedConv q = random_conv(3, o, kernel, stride, 0, zp, false, static_cast<uint64_t>(h), top);
    Shape shape;
    const std::vector<int32_t> acc = ref::conv2d_u8s8(x, zp, q.weight, o, kernel, stride, 0, shape);
    const int oh = static_cast<int>(shape[2]), ow = static_cast<int>(shape[3]);
    const int64_t row = int64_t{w} * kernel * 3 + 1;
    // Bytes the layout leaves unset hold 0xCD: a conv must multiply them by zero weights only.
    std::vector<uint8_t> plain(static_cast<std::size_t>(oh * row + 4), 0xCD), fast = plain;
    x86::int8::stack_windows(image.data(), w, kernel, stride, plain.data(), row, 0, oh);
    k.stack_windows(image.data(), w, kernel, stride, fast.data(), row, 0, oh / 3 + 1);
    k.stack_windows(image.data(), w, kernel, stride, fast.data(), row, oh / 3 + 1, oh);
    for (int y = 0; y < oh; ++y)
      for (int64_t b = 0; b < row - 1; ++b)
        ASSERT_EQ(fast[static_cast<std::size_t>(y * row + b)], plain[static_cast<std::size_t>(y * row + b)])
            << "row " << y << " byte " << b;
    const x86::int8::PackedConv pc = x86::int8::pack(x86::int8::stem_as_1x1(q), k.lanes, k.group_blocks);
    std::vector<int32_t> out(static_cast<std::size_t>(oh * ow * o));
    const x86::int8::ConvIO io{fast.data(), row, stride * kernel * 3, out.data(), int64_t{ow} * o, o, ow,
                               x86::int8::ConvIO::Output::i32};
    k.conv(pc, io, 0, oh * ow / 2 + 1);
    k.conv(pc, io, oh * ow / 2 + 1, oh * ow);
    for (int ch = 0; ch < o; ++ch)
      for (int p = 0; p < oh * ow; ++p)
        ASSERT_EQ(out[static_cast<std::size_t>(p * o + ch)], acc[static_cast<std::size_t>(ch * oh * ow + p)])
            << "channel " << ch << " pixel " << p;
  }
}

// Odd sides (the ceil windows cut short on both edges), channels off the vector width and past the pool's
// 512-channel chunk, the rows cut in two uneven pieces as threads cut them.
TEST_P(Int8Family, MaxPoolMatchesReferenceOnOddShapes) {
  for (const auto& [c, h, w] : {std::array{3, 8, 7}, std::array{96, 11, 13}, std::array{515, 5, 6}, std::array{17, 2, 3}}) {
    SCOPED_TRACE(std::to_string(c) + " channels, " + std::to_string(h) + "x" + std::to_string(w));
    const ref::U8Tensor x = random_u8({1, c, h, w}, static_cast<uint64_t>(c + h));
    const ref::U8Tensor y = ref::max_pool2d_ceil_u8(x, 3, 2);
    std::vector<uint8_t> nhwc(x.data.size());
    for (int ch = 0; ch < c; ++ch)
      for (int p = 0; p < h * w; ++p)
        nhwc[static_cast<std::size_t>(p * c + ch)] = x.data[static_cast<std::size_t>(ch * h * w + p)];
    const int oh = static_cast<int>(y.shape[2]), ow = static_cast<int>(y.shape[3]);
    std::vector<uint8_t> out(static_cast<std::size_t>(oh * ow * c), 0xAB);
    GetParam()->max_pool(nhwc.data(), h, w, c, out.data(), 0, oh / 2);
    GetParam()->max_pool(nhwc.data(), h, w, c, out.data(), oh / 2, oh);
    for (int ch = 0; ch < c; ++ch)
      for (int p = 0; p < oh * ow; ++p)
        ASSERT_EQ(out[static_cast<std::size_t>(p * c + ch)], y.data[static_cast<std::size_t>(ch * oh * ow + p)])
            << "channel " << ch << " pixel " << p;
  }
}

TEST_P(Int8Family, ImageQuantizationMatchesReferenceAndFlagsNonFinite) {
  const int64_t pixels = 37;
  Tensor img = test::random_tensor({3, pixels}, 9, -3.0, 3.0);
  img[5] = 0.025f;  // halfway cases after scaling by 20: 128.5 and 129.5
  img[6] = 0.075f;
  std::vector<uint8_t> out(4 * pixels);
  EXPECT_TRUE(GetParam()->quantize_image(img.data(), pixels, 20.0f, out.data(), 0, pixels));
  for (int64_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < 3; ++c)
      ASSERT_EQ(out[static_cast<std::size_t>(4 * p + c)], ref::quantize_input(img[c * pixels + p], 20.0f));
    ASSERT_EQ(out[static_cast<std::size_t>(4 * p + 3)], 128);
  }
  img[pixels + 30] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(GetParam()->quantize_image(img.data(), pixels, 20.0f, out.data(), 0, pixels));
}

// A random network quantized on synthetic images, small enough for the reference forward.
const QuantizedModel& small_quantized(Arch arch, int weight_bits = 8) {
  static std::map<std::pair<Arch, int>, QuantizedModel> cache;
  const auto key = std::make_pair(arch, weight_bits);
  if (!cache.count(key)) {
    ModelConfig config;
    config.arch = arch;
    config.num_classes = 37;
    config.final_conv_pad = arch == Arch::squeezenet1_0 ? 1 : 0;
    const Model m(config, 5);
    cache[key] = quantize(m, synthetic_calibration_images(2, 67), Calibration::kl, {}, Fitting::sequential,
                          weight_bits);
  }
  return cache.at(key);
}

// 8-bit weights, and 7-bit ones, which the AVX2 family multiplies by vpmaddubsw.
TEST_P(Int8Family, NetworkIsBitIdenticalToReferenceOnAnyThreadCount) {
  for (const auto& [arch, bits] : {std::pair{Arch::squeezenet1_1, 8}, std::pair{Arch::squeezenet1_0, 8},
                                   std::pair{Arch::squeezenet1_1, 7}, std::pair{Arch::squeezenet1_0, 7}}) {
    const QuantizedModel& q = small_quantized(arch, bits);
    Tensor x = test::random_tensor({3, 3, 67, 71}, 10, -2.0, 2.5);
    x[3 * 67 * 71 + 100] = std::numeric_limits<float>::infinity();  // the second image gets NaN logits
    const Tensor expected = forward_int8_reference(q, x);
    for (int threads : {1, 2, 3, 4}) {
      SCOPED_TRACE(arch_name(arch) + ", " + std::to_string(bits) + "-bit weights, " + std::to_string(threads) +
                   " threads");
      for (int64_t batch : {int64_t{1}, int64_t{3}}) {
        Tensor xb({batch, 3, 67, 71}, x.data());
        QuantizedPlan plan(q, xb.shape(), threads, GetParam());
        Tensor logits({batch, q.config.num_classes});
        plan.run(xb.data(), logits.data());
        for (int64_t i = 0; i < logits.numel(); ++i) {
          if (std::isnan(expected[i])) {
            ASSERT_TRUE(std::isnan(logits[i])) << i;
          } else {
            ASSERT_EQ(std::memcmp(logits.data() + i, expected.data() + i, 4), 0) << i << ": " << logits[i] << " vs " << expected[i];
          }
        }
      }
    }
  }
}

TEST(Int8, QuantizedNetworkStaysCloseToFp32) {
  ModelConfig config;
  config.num_classes = 10;
  const Model m(config, 6);
  const std::vector<Tensor> images = synthetic_calibration_images(3, 67);
  const QuantizedModel q = quantize(m, images, Calibration::minmax);
  const Tensor fp = m.forward(images[0]), i8 = forward_int8_reference(q, images[0]);
  float scale = 0.0f;
  for (int64_t i = 0; i < fp.numel(); ++i) scale = std::max(scale, std::fabs(fp[i]));
  ASSERT_GT(scale, 0.0f);
  EXPECT_LT(max_abs_diff(fp, i8), 0.1f * scale);
}

TEST(Int8, SafetensorsRoundTripKeepsEveryBitAndLoadsAsAModel) {
  const QuantizedModel& q = small_quantized(Arch::squeezenet1_0);
  const std::string bytes = write_safetensors(to_weights(q));
  const WeightFile wf = read_safetensors_bytes(bytes, "q.safetensors");
  EXPECT_EQ(wf.dtypes.at("features.0.weight"), "I8");
  const Model m = Model::from_weights(wf, "q.safetensors");
  ASSERT_NE(m.quantization(), nullptr);
  const QuantizedModel& back = *m.quantization();
  EXPECT_EQ(back.config.final_conv_pad, 1);
  EXPECT_EQ(back.calibration, "kl");
  ASSERT_EQ(back.convs.size(), q.convs.size());
  for (std::size_t i = 0; i < q.convs.size(); ++i) {
    EXPECT_EQ(back.convs[i].weight, q.convs[i].weight);
    EXPECT_EQ(back.convs[i].weight_scale, q.convs[i].weight_scale);
    EXPECT_EQ(back.convs[i].bias, q.convs[i].bias);
    EXPECT_EQ(back.convs[i].input_scale, q.convs[i].input_scale);
    EXPECT_EQ(back.convs[i].output_scale, q.convs[i].output_scale);
    EXPECT_EQ(back.convs[i].input_zero_point, q.convs[i].input_zero_point);
  }
  // The fp32 model holds weight * scale.
  EXPECT_EQ(m.parameter("features.0.weight")[7], q.convs[0].weight[7] * q.convs[0].weight_scale[0]);
}

TEST(Int8, BadQuantizedFilesGiveOneClearError) {
  const QuantizedModel& q = small_quantized(Arch::squeezenet1_1);
  auto expect_error = [](WeightFile wf, const std::string& what) {
    try {
      Model::from_weights(wf, "q.safetensors");
      FAIL() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  WeightFile wf = to_weights(q);
  wf.tensors["features.3.squeeze.weight"][2] = 300.0f;
  expect_error(wf, "not an int8 weight");
  wf = to_weights(q);
  wf.tensors["features.3.squeeze.input_scale"][0] = -1.0f;
  expect_error(wf, "not a positive finite scale");
  wf = to_weights(q);
  wf.tensors.erase("classifier.1.output_scale");
  expect_error(wf, "missing tensor 'classifier.1.output_scale'");
  wf = to_weights(q);
  wf.tensors["features.3.squeeze.output_scale"] = Tensor({2});
  expect_error(wf, "shape [2]");
  wf = to_weights(q);
  wf.tensors["features.3.extra_scale"] = Tensor({1}, 1.0f);
  expect_error(wf, "unexpected tensor");
}

}  // namespace
}  // namespace squeezenet
