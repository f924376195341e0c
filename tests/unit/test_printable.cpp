// Error messages are safe to print: every reader, fed names made of control characters and terminal escape
// sequences, refuses with a message of printable ASCII on one line, quoting the input as \xNN and short.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "formats/readers.h"
#include "formats/zip_archive.h"
#include "run_cli.h"
#include "squeezenet/error.h"
#include "squeezenet/image.h"
#include "squeezenet/model.h"
#include "temp_dir.h"

namespace squeezenet {
namespace {

// Sets the terminal's title, clears the screen, rings the bell, returns the cursor, and a C1 CSI (0x9B).
const std::string kHostile = std::string("\x1b]0;pwned\x07\x1b[2J\x0b\x0c\x9b[31m") + '\0' + "end";
const std::string kHostileQuoted = "\\x1B]0;pwned\\x07\\x1B[2J\\x0B\\x0C\\x9B[31m\\x00end";
// What a JSON string can hold: no NUL, valid UTF-8.
const std::string kHostileText = "\x1b]0;pwned\x07\x1b[2J\x0b";
const std::string kHostileTextQuoted = "\\x1B]0;pwned\\x07\\x1B[2J\\x0B";

bool all_printable(const std::string& s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  return true;
}

// The reader must refuse; its message must be printable, and where it quotes the input, escaped.
std::string refusal(const std::function<void()>& read) {
  try {
    read();
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_TRUE(all_printable(message)) << message;
    EXPECT_LE(message.size(), kMessageBytes + 24);
    return message;
  }
  ADD_FAILURE() << "the hostile input was accepted";
  return "";
}

std::string varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7f) | 0x80);
  return out + static_cast<char>(v);
}
std::string field(int number, const std::string& bytes) {
  return varint(static_cast<uint64_t>(number) << 3 | 2) + varint(bytes.size()) + bytes;
}

TEST(Printable, KeepsPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(printable("features.0.weight"), "features.0.weight");
  EXPECT_EQ(printable(kHostile), kHostileQuoted);
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\\xC3\\xA9");
  EXPECT_EQ(quote_input("a\nb"), "'a\\x0Ab'");
}

TEST(Printable, CutsLongInputAndSaysHowLongItWas) {
  const std::string long_name(100000, 'x');
  EXPECT_EQ(printable(long_name), std::string(kQuotedBytes, 'x') + "... (100000 bytes)");
  EXPECT_EQ(printable(long_name, 3), "xxx... (100000 bytes)");
}

TEST(Printable, LeavesAnEscapedStringAsItIs) {
  const std::string once = printable(kHostile);
  EXPECT_EQ(printable(once, kMessageBytes), once);
}

TEST(Printable, ErrorMessagesAreOneLineWhateverTheyWereBuiltFrom) {
  const Error e("model.param: line 3: " + kHostile + std::string(10000, 'y'));
  EXPECT_TRUE(all_printable(e.what()));
  EXPECT_LE(std::string(e.what()).size(), kMessageBytes + 24);
}

// The issue's case: an ncnn .param whose layer line carries binary from a mutation.
TEST(PrintableReaders, NcnnParam) {
  const std::string param = "7767517\n1 1\n" + kHostile + " data 0 1 data\n";
  const std::string message = refusal([&] { read_ncnn_bytes(param, "", "m.param", "m.bin"); });
  EXPECT_NE(message.find("layer type '" + kHostileQuoted + "'"), std::string::npos) << message;
  const std::string number = "7767517\n1 1\nInput data 0 1 data 0=" + kHostile + "\n";
  refusal([&] { Model::from_weights(read_ncnn_bytes(number, "", "m.param", "m.bin"), "m.param"); });
}

TEST(PrintableReaders, Safetensors) {
  const std::string header = R"({"features.0.weight\u001b[2J":{"dtype":"F\u001b]0;x\u0007","shape":[1],"data_offsets":[0,4]}})";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  file += header + std::string(4, '\0');
  const std::string message = refusal([&] { read_safetensors_bytes(file, "m.safetensors"); });
  EXPECT_NE(message.find("\\x1B"), std::string::npos) << message;
}

TEST(PrintableReaders, PthPickleGlobal) {
  const std::string pickle = "\x80\x02" "c" + kHostile + "\nsystem\n.";
  const std::string zip = write_zip({{"archive/data.pkl", pickle}}, 64);
  const std::string message = refusal([&] { read_pth_bytes(zip, "m.pth"); });
  EXPECT_NE(message.find(kHostileQuoted), std::string::npos) << message;
}

TEST(PrintableReaders, Caffemodel) {
  // NetParameter.layer (100) { name (1), type (2), one empty blob (7) }: a weighted layer that is no conv.
  const std::string layer = field(1, kHostile) + field(2, kHostile) + field(7, "");
  const std::string message = refusal([&] { read_caffemodel_bytes(field(100, layer), "m.caffemodel"); });
  EXPECT_NE(message.find("layer '" + kHostileQuoted + "' (type " + kHostileQuoted + ")"), std::string::npos) << message;
}

TEST(PrintableReaders, Npy) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + kHostile + "), }";
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  const std::string file = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size() & 0xff) +
                           static_cast<char>(header.size() >> 8) + header + kHostile;
  refusal([&] { read_npy_bytes(file, "m.npy"); });
}

TEST(PrintableReaders, DeepCompression) { refusal([&] { read_deep_compression_bytes(kHostile + kHostile, "m.net"); }); }

TEST(PrintableReaders, Images) {
  refusal([&] { decode_image_bytes("\x89PNG\r\n\x1a\n" + kHostile, "m.png"); });
  refusal([&] { decode_image_bytes("\xff\xd8\xff\xe0" + kHostile, "m.jpg"); });
}

TEST(PrintableReaders, TensorNamesInAModel) {
  WeightFile wf;
  wf.tensors.emplace(kHostile, Tensor({1}));
  const std::string message = refusal([&] { Model::from_weights(wf, "m.safetensors"); });
}

// What a user sees: one line on stderr, exit status 1, the name escaped; metadata printed by `info` too.
TEST(PrintableCli, InfoOnAHostileParamPrintsOneEscapedLine) {
  test::TempDir dir;
  const std::string path = dir.write("m.param", "7767517\n1 1\n" + kHostile + " data 0 1 data\n");
  dir.write("m.bin", "");
  const test::CliResult r = test::run_cli("info -w '" + path + "'");
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_FALSE(r.output.empty());
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << r.output;
  EXPECT_TRUE(all_printable(r.output.substr(0, r.output.size() - 1))) << r.output;
  EXPECT_NE(r.output.find(kHostileQuoted), std::string::npos) << r.output;
}

TEST(PrintableCli, InfoEscapesTheWeightsMetadata) {
  ModelConfig config;
  config.num_classes = 2;
  WeightFile wf = Model(config, 1).to_weights();
  wf.metadata["note"] = kHostileText;
  test::TempDir dir;
  const std::string path = dir.write("m.safetensors", write_safetensors(wf));
  const test::CliResult r = test::run_cli("info -w '" + path + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::string lines = r.output;
  std::erase(lines, '\n');
  EXPECT_TRUE(all_printable(lines)) << r.output;
  EXPECT_NE(r.output.find("note: " + kHostileTextQuoted), std::string::npos) << r.output;
}

}  // namespace
}  // namespace squeezenet
