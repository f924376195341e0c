// The ONNX writer and reader against each other; graphs from elsewhere (torchvision's exports, the zoo layouts)
// and graphs that are not SqueezeNets are in tests/python/test_onnx_import.py.
#include <gtest/gtest.h>

#include "formats/readers.h"
#include "squeezenet/error.h"
#include "squeezenet/model.h"
#include "temp_dir.h"

namespace squeezenet {
namespace {

ModelConfig config(Arch arch, int classes, int final_conv_pad = 0) {
  ModelConfig c;
  c.arch = arch;
  c.num_classes = classes;
  c.final_conv_pad = final_conv_pad;
  return c;
}

// Random non-zero biases: torchvision's zero ones would let a bias read from the wrong place go unnoticed.
Model seeded_model(const ModelConfig& c, uint64_t seed) {
  Model m(c, seed);
  float v = 0.01f;
  for (const std::string& name : m.parameter_names())
    if (name.ends_with(".bias"))
      for (int64_t i = 0; i < m.parameter(name).numel(); ++i) m.parameter(name)[i] = (v = -v * 1.01f);
  return m;
}

void expect_same_parameters(const Model& a, const Model& b) {
  ASSERT_EQ(a.parameter_names(), b.parameter_names());
  for (const std::string& name : a.parameter_names()) {
    ASSERT_EQ(a.parameter(name).shape(), b.parameter(name).shape()) << name;
    EXPECT_EQ(max_abs_diff(a.parameter(name), b.parameter(name)), 0.0f) << name;
  }
}

TEST(Onnx, RoundTripKeepsEveryTensorAndTheMetadata) {
  for (const ModelConfig& c : {config(Arch::squeezenet1_0, 1000, 1), config(Arch::squeezenet1_1, 7)}) {
    const Model model = seeded_model(c, 5);
    WeightFile wf = model.to_weights("caffe");
    wf.metadata["source"] = "a test";
    const WeightFile back = read_onnx_bytes(write_onnx(wf), "t.onnx");
    const Model loaded = Model::from_weights(back, "t.onnx");
    EXPECT_EQ(loaded.config().arch, c.arch);
    EXPECT_EQ(loaded.config().num_classes, c.num_classes);
    EXPECT_EQ(loaded.config().final_conv_pad, c.final_conv_pad);
    EXPECT_EQ(back.metadata.at("preset"), "caffe");
    EXPECT_EQ(back.metadata.at("source"), "a test");
    expect_same_parameters(model, loaded);
  }
}

TEST(Onnx, FilesGoThroughLoadAndSaveByTheirName) {
  test::TempDir dir;
  const Model model = seeded_model(config(Arch::squeezenet1_1, 3), 9);
  const std::string path = dir.file("m.onnx");
  EXPECT_EQ(format_for_output(path), Format::onnx);
  save_weights(model.to_weights(), path, Format::onnx);
  EXPECT_EQ(detect_format(path), Format::onnx);
  expect_same_parameters(model, Model::from_weights(load_weights(path), path));
}

// Every prefix of a file, and the file with single bytes changed, is refused with an Error or read as some
// SqueezeNet; nothing else (a crash, another exception) may happen.
TEST(Onnx, DamagedFilesAreRefusedCleanly) {
  const std::string bytes = write_onnx(seeded_model(config(Arch::squeezenet1_1, 2), 1).to_weights());
  int refused = 0;
  for (std::size_t n = 0; n < bytes.size(); n += 1 + n / 16) {
    try {
      read_onnx_bytes(std::string_view(bytes).substr(0, n), "cut.onnx");
    } catch (const Error& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find("cut.onnx"), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(refused, 100);
  for (std::size_t at = 0; at < 4000; at += 7) {
    std::string changed = bytes;
    changed[at] = static_cast<char>(changed[at] ^ 0x5a);
    try {
      Model::from_weights(read_onnx_bytes(changed, "changed.onnx"), "changed.onnx");
    } catch (const Error&) {
    }
  }
}

TEST(Onnx, RefusesWhatIsNotAModel) {
  EXPECT_THROW(read_onnx_bytes("", "empty.onnx"), Error);
  EXPECT_THROW(read_onnx_bytes("\x08\x07", "ir_only.onnx"), Error);
  try {
    read_onnx_bytes("not protobuf at all", "text.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "text.onnx: not an ONNX ModelProto (truncated or corrupted .onnx?)");
  }
}

}  // namespace
}  // namespace squeezenet
