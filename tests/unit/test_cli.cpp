// The command line as a user meets it: right numbers, clear errors, non-zero exits, no crashes.
#include <gtest/gtest.h>

#include <filesystem>

#include "formats/readers.h"
#include "run_cli.h"
#include "squeezenet/error.h"
#include "squeezenet/hub.h"
#include "squeezenet/version.h"
#include "temp_dir.h"
#include "test_env.h"
#include "util/io.h"

namespace squeezenet {
namespace {

using test::run_cli;

TEST(Cli, InfoPrintsTorchvisionsParameterCounts) {
  auto r = run_cli("info --arch squeezenet1_0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1,248,424"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("features.12"), std::string::npos);
  EXPECT_NE(r.output.find("818,924,576"), std::string::npos);
  r = run_cli("info --arch squeezenet1_1 --input 227");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1,235,496"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[512, 14, 14]"), std::string::npos) << r.output;
  r = run_cli("info --arch squeezenet1_1 --classes 10");
  EXPECT_NE(r.output.find("[10, 1, 1]"), std::string::npos) << r.output;
}

TEST(Cli, VersionIsTheProjects) {
  const auto r = run_cli("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "squeezenet.cpp " SQUEEZENET_VERSION "\n");
}

TEST(Cli, BadArgumentsExitNonZeroWithAMessage) {
  auto r = run_cli("info --arch squeezenet2_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("unknown architecture"), std::string::npos) << r.output;
  r = run_cli("info --arch squeezenet1_0 --input 20");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("too small"), std::string::npos) << r.output;
  r = run_cli("bench --precision fp16 --iters 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("unknown precision 'fp16'"), std::string::npos) << r.output;
  r = run_cli("quantize --weights w.safetensors --calibrate . --out q.safetensors --method entropy");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("unknown calibration method 'entropy'"), std::string::npos) << r.output;
  r = run_cli("no-such-command");
  EXPECT_NE(r.exit_code, 0);
  r = run_cli("predict --weights /nonexistent.safetensors --input x.bin --shape 1,3,224,224");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("/nonexistent.safetensors"), std::string::npos) << r.output;
}

TEST(Cli, ConvertThenPredictGivesTheSameLogitsAsTheSource) {
  test::TempDir dir;
  const std::string dc = test::data_dir() + "/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net";
  auto r = run_cli("convert '" + dc + "' " + dir.file("dc.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Tensor x({1, 3, 227, 227});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>((i * 7919) % 255) - 120.0f;
  write_file_atomic(dir.file("x.bin"), std::string_view(reinterpret_cast<const char*>(x.data()), x.numel() * 4));
  r = run_cli("predict --weights '" + dc + "' --input " + dir.file("x.bin") + " --shape 1,3,227,227 --output " +
              dir.file("a.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("image 0:"), std::string::npos) << r.output;
  r = run_cli("predict --weights " + dir.file("dc.safetensors") + " --input " + dir.file("x.bin") +
              " --shape 1,3,227,227 --output " + dir.file("b.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(dir.file("a.bin")), read_file(dir.file("b.bin")));
  // The converted file keeps what the weights need: Caffe head and preset.
  const WeightFile wf = load_weights(dir.file("dc.safetensors"));
  EXPECT_EQ(wf.metadata.at("final_conv_pad"), "1");
  EXPECT_EQ(wf.metadata.at("preset"), "caffe");
  EXPECT_EQ(wf.metadata.at("arch"), "squeezenet1_0");

  r = run_cli("predict --weights " + dir.file("dc.safetensors") + " --input " + dir.file("x.bin") +
              " --shape 1,3,224,224");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("needs"), std::string::npos) << r.output;
  r = run_cli("convert '" + dc + "' " + dir.file("dc.tflite"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.file("dc.tflite")));
}

TEST(Fetch, VerifiesTheHashInTheFileNameAndKeepsNothingBad) {
  test::TempDir server, cache;
  // A file posing as the official one, with the wrong content.
  server.write(official_file_name(Arch::squeezenet1_1), "not the real weights");
  auto r = run_cli("fetch squeezenet1_1 -q --url file://" + server.path().string() + " --dir " + cache.path().string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("SHA-256"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::is_empty(cache.path()));
  r = run_cli("fetch squeezenet1_1 -q --url file://" + server.path().string() + "/missing --dir " +
              cache.path().string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("download failed"), std::string::npos) << r.output;

  // A file whose name carries its real hash downloads and is kept.
  const std::string src = server.write("payload.bin", "some weights");
  const std::string prefix = sha256_hex(src).substr(0, 8);
  download_verified("file://" + src, cache.file("w-" + prefix + ".pth"), prefix, false);
  EXPECT_EQ(read_file(cache.file("w-" + prefix + ".pth")), "some weights");
  EXPECT_THROW(download_verified("file://" + src, cache.file("bad.pth"), "00000000", false), Error);
  EXPECT_FALSE(std::filesystem::exists(cache.file("bad.pth")));
  EXPECT_FALSE(std::filesystem::exists(cache.file("bad.pth.part")));
}

TEST(Cli, Int8BenchRunsWithoutWeightsAndSaysHow) {
  const auto r = run_cli("bench --precision int8 --input 96 --iters 2 --threads 2");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("quantized on the fly"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("-int8 kernels"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("median"), std::string::npos) << r.output;
}

// quantize writes int8 safetensors from any weights format, calibrated on a folder, which classify then runs.
TEST(Cli, QuantizeThenClassifyAtInt8) {
  const std::string data = test::data_dir();
  const std::string weights = data + "/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net";
  if (!std::filesystem::exists(weights)) GTEST_SKIP() << "no " << weights;
  test::TempDir dir;
  const std::string q = dir.file("q.safetensors");
  auto r = run_cli("quantize --weights " + weights + " --calibrate " + data + "/hymenoptera_data/train --count 2 --out " +
                   q + " --method percentile");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const WeightFile wf = load_weights(q);
  EXPECT_EQ(wf.metadata.at("quantization"), "int8");
  EXPECT_EQ(wf.metadata.at("calibration"), "percentile");
  EXPECT_EQ(wf.metadata.at("preset"), "caffe");
  EXPECT_EQ(wf.dtypes.at("features.0.weight"), "I8");
  r = run_cli("classify --weights " + q + " --precision int8 " + data + "/imagenet-sample-1000/n01531178_goldfinch.JPEG");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("goldfinch"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("on the fly"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace squeezenet
