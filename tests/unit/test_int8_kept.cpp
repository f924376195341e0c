// Mixed-precision int8: convs kept in fp32. Both fp32 kernels (AVX2, AVX-512) against the reference on odd shapes,
// a network with kept convs bit-identical to the reference on every int8 family and thread count, and the
// safetensors form.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "formats/readers.h"
#include "kernels/dispatch.h"
#include "kernels/reference/int8.h"
#include "kernels/x86/int8_table.h"
#include "kernels/x86/kept_fp32.h"
#include "model/int8_plan.h"
#include "random_tensor.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

using KeptKernel = void (*)(const x86::kept::PackedConv&, const x86::kept::IO&, int64_t, int64_t);

// One conv through `kernel`, cut in two pixel ranges, against ref::conv2d_kept_fp32: u8 NHWC input in a padded
// frame (or the fp32 image), u8 or fp32 output in a pixel stride wider than the channels.
void check_kept(KeptKernel kernel, int c, int o, int kernel_size, int stride, int pad, int h, int w, bool image,
                float output_scale, uint64_t seed) {
  SCOPED_TRACE("c=" + std::to_string(c) + " o=" + std::to_string(o) + " k=" + std::to_string(kernel_size) +
               " s=" + std::to_string(stride) + " image=" + std::to_string(image) +
               " scale=" + std::to_string(output_scale));
  Rng rng(seed);
  Tensor x({1, c, h, w});
  for (int64_t i = 0; i < x.numel(); ++i)
    x[i] = image ? static_cast<float>(rng.uniform(-2.5, 2.5)) : static_cast<float>(rng.next() % 256);
  const Tensor wt = test::random_tensor({o, c, kernel_size, kernel_size}, seed + 1, -0.05, 0.05);
  const Tensor b = test::random_tensor({o}, seed + 2, -1.0, 1.0);
  const std::vector<float> weight(wt.data(), wt.data() + wt.numel()), bias(b.data(), b.data() + b.numel());
  const Tensor expected = ref::conv2d_kept_fp32(x, weight, bias, kernel_size, stride, pad);
  const int64_t oh = expected.dim(2), ow = expected.dim(3), fh = h + 2 * pad, fw = w + 2 * pad;
  std::vector<uint8_t> frame(static_cast<std::size_t>(fh * fw * c), 0);
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h; ++y)
      for (int xx = 0; xx < w; ++xx)
        frame[static_cast<std::size_t>(((y + pad) * fw + xx + pad) * c + ch)] =
            static_cast<uint8_t>(x[(ch * h + y) * w + xx]);
  const x86::kept::PackedConv p = x86::kept::pack(weight, bias, o, c, kernel_size, stride, output_scale);
  const int out_pixel = o + 3;
  std::vector<float> out(static_cast<std::size_t>(oh * ow * out_pixel), -7.0f);
  x86::kept::IO io;
  if (image) {
    io.image = x.data();
    io.image_height = h;
    io.image_width = w;
  } else {
    io.in = frame.data();
    io.in_row = fw * c;
    io.in_pixel = c;
  }
  io.out = out.data();
  io.out_row = ow * out_pixel;
  io.out_pixel = out_pixel;
  io.out_width = static_cast<int>(ow);
  const int64_t cut = oh * ow / 3 + 1;
  kernel(p, io, 0, std::min(cut, oh * ow));
  kernel(p, io, std::min(cut, oh * ow), oh * ow);
  const auto* bytes = reinterpret_cast<const uint8_t*>(out.data());
  for (int ch = 0; ch < out_pixel; ++ch)
    for (int64_t q = 0; q < oh * ow; ++q) {
      const std::size_t at = static_cast<std::size_t>(q * out_pixel + ch);
      if (ch >= o) {  // nothing written past the channels of a pixel
        if (output_scale == 0.0f) {
          ASSERT_EQ(out[at], -7.0f);
        }
        continue;
      }
      const float y = expected[ch * oh * ow + q];
      if (output_scale == 0.0f) {
        ASSERT_EQ(std::memcmp(&out[at], &y, 4), 0) << "channel " << ch << " pixel " << q << ": " << out[at] << " vs " << y;
      } else {
        ASSERT_EQ(bytes[at], ref::quantize_kept(y, 1.0f / output_scale)) << "channel " << ch << " pixel " << q;
      }
    }
}

class KeptFp32 : public ::testing::TestWithParam<KeptKernel> {
 protected:
  void SetUp() override {
    if (GetParam() == &x86::kept::conv_avx512 && !kernels::has_avx512()) GTEST_SKIP() << "this CPU lacks AVX-512";
    if (!kernels::has_avx2_fma()) GTEST_SKIP() << "this CPU lacks AVX2 + FMA";
  }
};

TEST_P(KeptFp32, ConvMatchesReferenceOnOddShapes) {
  for (float scale : {0.0f, 0.03f}) {
    check_kept(GetParam(), 3, 64, 3, 2, 0, 11, 9, true, scale, 1);   // 1.1's stem on the image
    check_kept(GetParam(), 3, 17, 7, 2, 0, 15, 13, true, scale, 2);  // 1.0's 7x7 stem, odd channels
    check_kept(GetParam(), 16, 64, 1, 1, 0, 5, 7, false, scale, 3);
    check_kept(GetParam(), 13, 40, 3, 1, 1, 6, 5, false, scale, 4);
    check_kept(GetParam(), 5, 1, 3, 1, 1, 4, 4, false, scale, 5);
    check_kept(GetParam(), 37, 100, 1, 1, 0, 3, 3, false, scale, 6);
    check_kept(GetParam(), 20, 9, 1, 1, 1, 3, 2, false, scale, 7);  // the Caffe head: a padded 1x1
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, KeptFp32, ::testing::Values(&x86::kept::conv_avx2, &x86::kept::conv_avx512),
                         [](const auto& info) { return std::string(info.index == 0 ? "avx2" : "avx512"); });

// A random network quantized on synthetic images with the stem, a squeeze reading a Fire, an expand3x3 and the
// final conv kept in fp32.
QuantizedModel kept_model(Arch arch) {
  ModelConfig config;
  config.arch = arch;
  config.num_classes = 37;
  config.final_conv_pad = arch == Arch::squeezenet1_0 ? 1 : 0;
  const Model m(config, 5);
  return quantize(m, synthetic_calibration_images(2, 67), Calibration::kl,
                  {"features.0", "features.4.squeeze", "features.3.expand3x3", "classifier.1"});
}

TEST(Int8Kept, NetworkIsBitIdenticalToReferenceOnEveryFamilyAndThreadCount) {
  for (Arch arch : {Arch::squeezenet1_1, Arch::squeezenet1_0}) {
    const QuantizedModel q = kept_model(arch);
    ASSERT_TRUE(q.conv("features.0").kept_fp32());
    ASSERT_FALSE(q.conv("features.3.squeeze").kept_fp32());
    Tensor x = test::random_tensor({3, 3, 67, 71}, 10, -2.0, 2.5);
    x[3 * 67 * 71 + 100] = std::numeric_limits<float>::quiet_NaN();  // the second image gets NaN logits
    const Tensor expected = forward_int8_reference(q, x);
    for (const x86::int8::KernelTable* family : x86::int8::families_here())
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(arch_name(arch) + ", " + family->isa + ", " + std::to_string(threads) + " threads");
        QuantizedPlan plan(q, x.shape(), threads, family);
        Tensor logits({3, q.config.num_classes});
        plan.run(x.data(), logits.data());
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

// Fitted independently, keeping convs changes only them; fitted sequentially, the convs after a kept one are fitted
// to its output, so only those before it stay as they were.
TEST(Int8Kept, KeepingChangesOnlyTheKeptConvsAndTheOnesFittedAfterThem) {
  ModelConfig config;
  config.num_classes = 10;
  const Model m(config, 6);
  const std::vector<Tensor> images = synthetic_calibration_images(2, 67);
  const QuantizedModel all = quantize(m, images, Calibration::mse, {}, Fitting::independent);
  const QuantizedModel some = quantize(m, images, Calibration::mse, {"features.0", "classifier.1"}, Fitting::independent);
  const QuantizedModel sequential = quantize(m, images, Calibration::mse);
  const QuantizedModel head_kept = quantize(m, images, Calibration::mse, {"classifier.1"});
  for (std::size_t i = 0; i + 1 < sequential.convs.size(); ++i) {
    EXPECT_EQ(sequential.convs[i].weight, head_kept.convs[i].weight) << sequential.convs[i].name;
    EXPECT_EQ(sequential.convs[i].bias, head_kept.convs[i].bias) << sequential.convs[i].name;
  }
  EXPECT_TRUE(head_kept.conv("classifier.1").kept_fp32());
  for (std::size_t i = 0; i < all.convs.size(); ++i) {
    const QuantizedConv &a = all.convs[i], &s = some.convs[i];
    EXPECT_EQ(a.input_scale, s.input_scale) << a.name;
    EXPECT_EQ(a.output_scale, s.output_scale) << a.name;
    if (s.kept_fp32()) {
      const Tensor& w = m.parameter(s.name + ".weight");
      EXPECT_EQ(s.weight_fp32, std::vector<float>(w.data(), w.data() + w.numel())) << s.name;
      EXPECT_TRUE(s.weight.empty() && s.weight_scale.empty()) << s.name;
    } else {
      EXPECT_EQ(a.weight, s.weight) << a.name;
      EXPECT_EQ(a.bias, s.bias) << a.name;
    }
  }
  EXPECT_TRUE(some.conv("classifier.1").kept_fp32());
  EXPECT_THROW(quantize(m, images, Calibration::mse, {"features.99"}), Error);
}

TEST(Int8Kept, SafetensorsRoundTripAndBadFiles) {
  const QuantizedModel q = kept_model(Arch::squeezenet1_1);
  const WeightFile wf = to_weights(q);
  EXPECT_EQ(wf.metadata.at("keep_fp32"), "features.0,features.3.expand3x3,features.4.squeeze,classifier.1");
  const WeightFile back_file = read_safetensors_bytes(write_safetensors(wf), "q.safetensors");
  EXPECT_EQ(back_file.dtypes.count("features.0.weight"), 0u);  // F32
  EXPECT_EQ(back_file.dtypes.at("features.3.squeeze.weight"), "I8");
  const Model m = Model::from_weights(back_file, "q.safetensors");
  ASSERT_NE(m.quantization(), nullptr);
  const QuantizedModel& back = *m.quantization();
  for (std::size_t i = 0; i < q.convs.size(); ++i) {
    EXPECT_EQ(back.convs[i].weight_fp32, q.convs[i].weight_fp32) << q.convs[i].name;
    EXPECT_EQ(back.convs[i].weight, q.convs[i].weight) << q.convs[i].name;
    EXPECT_EQ(back.convs[i].bias, q.convs[i].bias) << q.convs[i].name;
  }
  // The fp32 model holds a kept conv's own weights.
  EXPECT_EQ(m.parameter("features.0.weight")[7], q.convs[0].weight_fp32[7]);

  try {
    write_onnx(wf);
    FAIL() << "exported a kept conv as QDQ";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("have no QDQ export"), std::string::npos) << e.what();
  }

  auto expect_error = [](WeightFile bad, const std::string& what) {
    try {
      Model::from_weights(bad, "q.safetensors");
      FAIL() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  WeightFile bad = wf;
  bad.metadata["keep_fp32"] = "features.0,features.3.expand3x3,features.4.squeeze";
  expect_error(bad, "classifier.1.weight: not I8, and not listed in keep_fp32");
  bad = wf;
  bad.metadata["keep_fp32"] += ",features.6.squeeze";
  expect_error(bad, "features.6.squeeze.weight: listed in keep_fp32 but stored as I8");
  bad = wf;
  bad.metadata["keep_fp32"] += ",features.99";
  expect_error(bad, "metadata keep_fp32 names 'features.99'");
  bad = wf;
  bad.metadata["keep_fp32"] = "features.0,,classifier.1";
  expect_error(bad, "is not a list of distinct conv names");
}

}  // namespace
}  // namespace squeezenet
