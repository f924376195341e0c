// The .sqz format and Deep Compression's .net written back: lossless round trips on the authors' real file,
// and damaged files refused with their name.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>

#include "compress/huffman.h"
#include "compress/rans.h"
#include "formats/readers.h"
#include "formats/sqz.h"
#include "random_tensor.h"
#include "squeezenet/error.h"
#include "squeezenet/model.h"
#include "expect_error.h"
#include "temp_dir.h"
#include "test_env.h"
#include "util/io.h"
#include "util/rng.h"

namespace squeezenet {
namespace {

using test::expect_error;

std::string authors_file() { return test::data_dir() + "/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net"; }

void expect_same_tensors(const WeightFile& a, const WeightFile& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    const Tensor& u = b.tensors.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    EXPECT_EQ(std::memcmp(t.data(), u.data(), sizeof(float) * t.numel()), 0) << name;
  }
}

// Replaces the trailing SHA-256 so that a deliberately edited body reaches the parser.
std::string reseal(std::string bytes) {
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size() - 32, reinterpret_cast<unsigned char*>(bytes.data() + bytes.size() - 32), &n,
             EVP_sha256(), nullptr);
  return bytes;
}

TEST(Huffman, RoundTripsSkewedStreamsWithinTheLengthLimit) {
  // Fibonacci counts give the deepest possible tree; the coder must flatten it to kHuffmanMaxBits.
  std::array<uint64_t, 256> counts{};
  uint64_t a = 1, b = 1;
  for (int s = 0; s < 40; ++s, std::swap(a, b), b += a) counts[s] = a;
  const auto lengths = huffman_lengths(counts);
  EXPECT_LE(*std::max_element(lengths.begin(), lengths.end()), kHuffmanMaxBits);
  Rng rng(3);
  std::vector<uint8_t> symbols;
  for (int i = 0; i < 5000; ++i) symbols.push_back(static_cast<uint8_t>(std::min(39.0, -std::log2(rng.uniform(0, 1) + 1e-12))));
  std::array<uint64_t, 256> c2{};
  for (uint8_t s : symbols) ++c2[s];
  for (const auto& cnt : {counts, c2}) {
    const auto len = huffman_lengths(cnt);
    HuffmanEncoder enc(len);
    BitWriter w;
    uint64_t bits = 0;
    for (uint8_t s : symbols)
      if (cnt[s]) enc.put(w, s), bits += enc.bits(s);
    const std::string stream = w.finish();
    EXPECT_EQ(stream.size(), (bits + 7) / 8);
    std::vector<uint16_t> count;
    std::vector<uint8_t> order;
    canonical_table(len, count, order);
    HuffmanDecoder dec(count, order, "test");
    dec.start(stream);
    for (uint8_t s : symbols) {
      if (cnt[s]) {
        ASSERT_EQ(dec.next(), s);
      }
    }
    EXPECT_TRUE(dec.at_end());
  }
  std::array<uint64_t, 256> one{};
  one[7] = 10;
  EXPECT_EQ(huffman_lengths(one)[7], 1);
  EXPECT_NEAR(entropy_bits(c2), 5000 * 2.0, 5000 * 0.1);  // geometric(1/2) has 2 bits of entropy
}

TEST(Huffman, ACodeRunningPastTheStreamsEndIsRefused) {
  // Eight 3-bit codes: one byte holds two of them and two bits of a third, which the table look-up (reading zero
  // padding past the end) would otherwise complete.
  HuffmanDecoder dec({0, 0, 8}, {0, 1, 2, 3, 4, 5, 6, 7}, "t.sqz");
  const std::string stream(1, static_cast<char>(0xff));
  dec.start(stream);
  EXPECT_EQ(dec.next(), 7);
  EXPECT_EQ(dec.next(), 7);
  EXPECT_FALSE(dec.at_end());
  expect_error([&] { dec.next(); }, {"t.sqz", "truncated"});
}

TEST(Rans, SizeIsTheEntropyOfQuantisedFrequenciesPlusStateAndTable) {
  std::array<uint64_t, 256> uniform{};
  for (int s = 0; s < 4; ++s) uniform[s] = 1000;
  EXPECT_EQ(rans_bytes(uniform), 4000 * 2 / 8 + 4 + 1 + 4 * 3);
  // Far below Huffman's one bit per symbol on a skewed stream: 1/4096 keeps the rare symbol, the common one
  // costs log2(4096/4095) bits.
  std::array<uint64_t, 256> skewed{};
  skewed[0] = 1000000;
  skewed[9] = 1;
  EXPECT_EQ(rans_bytes(skewed), static_cast<uint64_t>(std::ceil((1e6 * std::log2(4096.0 / 4095) + 12) / 8)) + 4 + 1 + 6);
  // Every symbol present: rounding up 255 rare ones must not starve the common one.
  std::array<uint64_t, 256> all{};
  all.fill(1);
  all[0] = 100;
  EXPECT_GT(rans_bytes(all), entropy_bits(all) / 8);
  EXPECT_EQ(rans_bytes({}), 0u);
}

TEST(Huffman, TablesThatAreNoPrefixCodeAreRefused) {
  expect_error([] { HuffmanDecoder({3}, {1, 2, 3}, "t.sqz"); }, {"t.sqz", "prefix"});
  expect_error([] { HuffmanDecoder({1}, {1, 2}, "t.sqz"); }, {"t.sqz", "symbols"});
  expect_error([] { HuffmanDecoder({0, 2}, {4, 4}, "t.sqz"); }, {"t.sqz", "twice"});
}

TEST(Half, EveryHalfSurvivesARoundTripAndTiesGoToEven) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads
    ASSERT_EQ(float_to_half(half_to_float(static_cast<uint16_t>(h))), h) << h;
  }
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);         // halfway to the next half: stays even
  EXPECT_EQ(float_to_half(1.0f + 3.0f / 2048), 0x3c02);         // halfway, odd below: rounds up
  EXPECT_EQ(float_to_half(70000.0f), 0x7c00);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25) * 1.5f), 0x0001);  // rounds up to the smallest subnormal
}

TEST(Sqz, DenseAndSharedTensorsComeBackBitIdentical) {
  ModelConfig c;
  c.num_classes = 10;
  WeightFile wf = Model(c, 5).to_weights("torchvision");
  // Share two layers: one sparse (gaps pay), one dense (a code per position pays); the rest stay floats.
  Rng rng(9);
  for (const char* name : {"features.3.expand3x3.weight", "features.0.weight"}) {
    Tensor& t = wf.tensors.at(name);
    const double keep = std::string(name) == "features.0.weight" ? 0.98 : 0.3;
    for (int64_t i = 0; i < t.numel(); ++i)
      t[i] = rng.uniform(0, 1) < keep ? std::round(t[i] * 40.0f) / 40.0f + 0.001f : 0.0f;
  }
  SqzStats stats;
  const std::string bytes = write_sqz(wf, &stats);
  const WeightFile back = read_sqz_bytes(bytes, "mem.sqz");
  expect_same_tensors(wf, back);
  EXPECT_EQ(back.metadata, wf.metadata);
  int coded = 0;
  for (const SqzTensorStats& t : stats.tensors) {
    coded += t.coded;
    if (t.name == "features.3.expand3x3.weight") {
      EXPECT_TRUE(t.coded && t.gaps);
    }
    if (t.name == "features.0.weight") {
      EXPECT_TRUE(t.coded && !t.gaps);
    }
    if (t.coded) {
      EXPECT_GE(t.code_bytes + t.gap_bytes + 1, static_cast<uint64_t>(t.code_entropy_bytes + t.gap_entropy_bytes));
    }
  }
  EXPECT_EQ(coded, 2);
  EXPECT_EQ(stats.file_bytes, bytes.size());
}

TEST(Sqz, TheAuthorsFileReencodesLosslesslyAndSmaller) {
  ASSERT_TRUE(std::filesystem::exists(authors_file())) << authors_file();
  const WeightFile net = load_weights(authors_file());
  SqzStats stats;
  const std::string bytes = write_sqz(net, &stats);
  const WeightFile back = read_sqz_bytes(bytes, "authors.sqz");
  expect_same_tensors(net, back);
  EXPECT_LT(bytes.size(), 600000u);  // 675,763 bytes as .net
  ModelConfig c;
  c.arch = Arch::squeezenet1_0;
  const Model a = Model::from_weights(net, "net"), b = Model::from_weights(back, "sqz");
  const Tensor x = test::random_tensor({1, 3, 99, 99}, 4);
  EXPECT_EQ(max_abs_diff(a.forward(x), b.forward(x)), 0.0f);
  EXPECT_EQ(back.metadata.at("final_conv_pad"), "1");
}

TEST(DeepCompressionWriter, ReadingThenWritingTheReleasedFileGivesItsBytes) {
  ASSERT_TRUE(std::filesystem::exists(authors_file())) << authors_file();
  const std::string original = read_file(authors_file());
  const WeightFile net = read_deep_compression_bytes(original, "net");
  EXPECT_TRUE(write_deep_compression(net) == original);
  // Through .sqz and back: the codebook order survives, so the bytes do too.
  EXPECT_TRUE(write_deep_compression(read_sqz_bytes(write_sqz(net), "sqz")) == original);

  ModelConfig v11;
  expect_error([&] { write_deep_compression(Model(v11, 1).to_weights("torchvision")); }, {".net", "v1.0"});
  WeightFile dense = net;
  dense.codebooks.clear();
  dense.tensors.at("features.0.weight")[0] = 0.123456f;  // 256 distinct values now
  dense.tensors.at("features.0.weight")[1] = 0.654321f;
  expect_error([&] { write_deep_compression(dense); }, {"features.0.weight", "255"});
}

TEST(Sqz, DamagedFilesAreRefusedWithTheirName) {
  ModelConfig c;
  c.num_classes = 10;
  WeightFile wf = Model(c, 5).to_weights("torchvision");
  Tensor& t = wf.tensors.at("features.0.weight");
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = i % 3 == 0 ? 0.0f : static_cast<float>(i % 7) / 8;
  const std::string good = write_sqz(wf);
  test::TempDir dir;
  const auto path = dir.write("good.sqz", good);
  expect_same_tensors(wf, load_weights(path));
  EXPECT_EQ(detect_format(path), Format::sqz);

  expect_error([&] { load_weights(dir.write("cut.sqz", good.substr(0, good.size() / 2))); }, {"cut.sqz", "checksum"});
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x10;
  expect_error([&] { load_weights(dir.write("flip.sqz", flipped)); }, {"flip.sqz", "damaged"});
  expect_error([&] { read_sqz_bytes(good.substr(0, 10), "short.sqz"); }, {"short.sqz", "truncated"});
  expect_error([&] { read_sqz_bytes("SQZX" + good.substr(4), "magic.sqz"); }, {"magic.sqz", "SQZN"});
  std::string version = good;
  version[4] = 2;
  expect_error([&] { read_sqz_bytes(reseal(version), "v2.sqz"); }, {"v2.sqz", "version 2"});
  std::string trailing = good.substr(0, good.size() - 32) + "x" + std::string(32, '\0');
  expect_error([&] { read_sqz_bytes(reseal(trailing), "trail.sqz"); }, {"trail.sqz", "unexpected"});

  // A lying non-zero count in conv1's record: found after its name, shape, kind, codebook and mode.
  const std::size_t at = good.find("features.0.weight");
  ASSERT_NE(at, std::string::npos);
  std::size_t p = at + 17 + 1 + 16 + 1;  // name, rank, 4 dims, kind
  const auto cb_type = static_cast<uint8_t>(good[p]);
  uint16_t k;
  std::memcpy(&k, good.data() + p + 1, 2);
  p += 3 + static_cast<std::size_t>(k) * (cb_type == 1 ? 2 : 4) + 1;
  std::string lying = good;
  const uint32_t huge = 0x7fffffff;
  std::memcpy(lying.data() + p, &huge, 4);
  expect_error([&] { read_sqz_bytes(reseal(lying), "count.sqz"); }, {"count.sqz", "features.0.weight", "non-zero"});
  std::string off_by_one = good;
  uint32_t n;
  std::memcpy(&n, good.data() + p, 4);
  --n;
  std::memcpy(off_by_one.data() + p, &n, 4);
  expect_error([&] { read_sqz_bytes(reseal(off_by_one), "one.sqz"); }, {"one.sqz", "features.0.weight"});
}

}  // namespace
}  // namespace squeezenet
