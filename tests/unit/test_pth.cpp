// .pth reading against files torch itself wrote and against hostile ones that must be refused, and .pth
// writing checked by torch.load(weights_only=True). The files come from tests/fixtures/make_hostile_pickles.py.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "formats/pickle.h"
#include "formats/readers.h"
#include "squeezenet/error.h"
#include "test_env.h"
#include "util/io.h"

namespace squeezenet {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

const fs::path kTestsDir = fs::path(__FILE__).parent_path().parent_path();

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs a shell command; its output, and a test failure that shows it if the command fails.
std::string run(const std::string& command, const fs::path& log, bool* ok = nullptr) {
  const int rc = std::system((command + " > " + quote(log.string()) + " 2>&1").c_str());
  const std::string out = fs::exists(log) ? read_file(log.string()) : "";
  EXPECT_EQ(rc, 0) << command << "\n" << out;
  if (ok) *ok = rc == 0;
  return out;
}

// A scratch folder of the calling test's own.
fs::path scratch() {
  std::string tmp = (fs::temp_directory_path() / "squeezenet-pth-XXXXXX").string();
  if (::mkdtemp(tmp.data()) == nullptr) throw Error("mkdtemp failed");
  return tmp;
}

std::string python(const fs::path& dir, const std::string& name, const std::string& code, const std::string& args) {
  const fs::path script = dir / (name + ".py");
  write_file_atomic(script.string(), code);
  return run("/usr/bin/python3 " + quote(script.string()) + " " + args, dir / (name + ".log"));
}

class PthFiles : public ::testing::Test {
 protected:
  // CTest runs every test in its own process, so the files are made once per version of the script and
  // kept in the fixtures folder: made in a fresh folder, then renamed into place, so parallel runs agree.
  static void SetUpTestSuite() {
    const fs::path script = kTestsDir / "fixtures" / "make_hostile_pickles.py";
    const std::string key = std::to_string(std::hash<std::string>{}(read_file(script.string())));
    const fs::path fixtures = fs::absolute(test::fixtures_dir());
    dir_ = fixtures / ("hostile_pth-" + key);
    if (fs::exists(dir_)) return;
    fs::create_directories(fixtures);
    std::string tmp = (fixtures / "hostile_pth-tmp-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmp.data()), nullptr);
    bool ok = false;
    run("/usr/bin/python3 " + quote(script.string()) + " --out " + quote(tmp), fs::path(tmp) / "make.log", &ok);
    std::error_code ec;
    if (ok) fs::rename(tmp, dir_, ec);
    if (!ok || ec) fs::remove_all(tmp);  // failed, or another process got there first
  }

  static std::string file(const std::string& name) { return (dir_ / name).string(); }

  static inline fs::path dir_;
};

// What torch.load gave for <name>.pth: "name ndim dims..." lines and the float32 data.
WeightFile expected(const std::string& base) {
  std::ifstream txt(base + ".expected.txt");
  const std::string data = read_file(base + ".expected.bin");
  WeightFile w;
  std::size_t offset = 0;
  std::string line;
  while (std::getline(txt, line)) {
    std::istringstream in(line);
    std::string name;
    int ndim = 0;
    in >> name >> ndim;
    Shape shape(static_cast<std::size_t>(ndim));
    for (auto& d : shape) in >> d;
    const auto bytes = static_cast<std::size_t>(numel_of(shape)) * sizeof(float);
    if (offset + bytes > data.size()) throw Error(base + ": expected data too short");
    w.tensors[name] = Tensor(shape, reinterpret_cast<const float*>(data.data() + offset));
    offset += bytes;
  }
  return w;
}

void expect_same(const WeightFile& got, const WeightFile& want) {
  ASSERT_EQ(got.tensors.size(), want.tensors.size());
  for (const auto& [name, t] : want.tensors) {
    auto it = got.tensors.find(name);
    ASSERT_NE(it, got.tensors.end()) << "missing " << name;
    ASSERT_EQ(shape_str(it->second.shape()), shape_str(t.shape())) << name;
    if (t.numel() == 0) continue;  // no data to compare, and memcmp must not see the null pointers
    EXPECT_EQ(0, std::memcmp(it->second.data(), t.data(), static_cast<std::size_t>(t.numel()) * sizeof(float)))
        << name;
  }
}

TEST_F(PthFiles, LoadsWhatTorchSaved) {
  for (const char* name : {"good_zip", "custom_top", "good_legacy", "half_legacy", "mixed_dtypes", "strided",
                           "dataparallel", "wrapped_state_dict", "wrapped_model_legacy", "py2_legacy"}) {
    SCOPED_TRACE(name);
    const std::string path = file(std::string(name) + ".pth");
    const WeightFile want = expected(file(name));
    expect_same(read_pth(path), want);
    expect_same(read_pth_bytes(read_file(path), path), want);
  }
}

TEST_F(PthFiles, RefusesHostileAndBrokenFiles) {
  const std::pair<const char*, const char*> cases[] = {
      {"os_system.pth", "refusing to load: pickle references posix.system, which a state_dict never needs"},
      {"eval_legacy.pth", "refusing to load: pickle references builtins.eval"},
      {"whole_model.pth", "refusing to load: pickle references torch.nn.modules.container.Sequential"},
      {"truncated_zip.pth", "not a readable zip archive"},
      {"truncated_legacy.pth", "truncated"},
      {"truncated_legacy_pickle.pth", "truncated"},
      {"corrupt_zip.pth", "CRC error"},
      {"corrupt_legacy.pth", "unsupported opcode 0xff"},
      {"random_bytes.pth", ""},
      {"bomb_pickle.pth", "data.pkl' unpacks to 104857"},
      {"bomb_storage.pth", "unpacks to 314572800 bytes, which with the 0 already unpacked passes the 268435456"},
      {"bomb_lying.pth", "archive/data/0'"},
      {"huge_numel.pth", "claims 4611686018427387904 float32 elements"},
      {"size_exceeds_storage.pth", "reads storage element 99, but its storage '0' has only 10"},
      {"storage_too_short.pth", "holds 24 bytes, but the pickle says it needs 40"},
      {"broadcast.pth", "more than the 1 of its storage"},
      {"long_tensor.pth", "tensor 'num_batches_tracked' holds int64 data"},
      {"not_a_dict.pth", "holds a list, not a state_dict"},
      {"no_data_pkl.pth", "without a <folder>/data.pkl"},
  };
  for (const auto& [name, message] : cases) {
    SCOPED_TRACE(name);
    const std::string path = file(name);
    try {
      read_pth(path);
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path + ":", 0), 0u) << what;
      EXPECT_NE(what.find(message), std::string::npos) << what;
    }
  }
}

WeightFile small_weights() {
  WeightFile w;
  std::vector<float> values(24);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f - 3.0f;
  w.tensors["b.weight"] = Tensor({2, 3, 4}, values.data());
  w.tensors["a"] = Tensor({5}, values.data());
  w.tensors["scalar"] = Tensor(Shape{}, 1.25f);
  w.tensors["empty"] = Tensor({0, 3});
  return w;
}

TEST(PthWriter, WritesWhatItReads) {
  const WeightFile w = small_weights();
  const std::string bytes = write_pth(w);
  expect_same(read_pth_bytes(bytes, "written.pth"), w);
  EXPECT_EQ(bytes, write_pth(w)) << "the same weights must give the same bytes";
}

TEST(PthWriter, TorchLoadsWrittenFileWithWeightsOnly) {
  const fs::path dir = scratch();
  const WeightFile w = small_weights();
  const std::string path = (dir / "small.pth").string();
  write_file_atomic(path, write_pth(w));
  const std::string out = python(dir, "check", R"(
import struct, sys, zipfile, torch
path = sys.argv[1]
raw = open(path, 'rb').read()
for info in zipfile.ZipFile(path).infolist():
    start = info.header_offset + 30 + sum(struct.unpack_from('<HH', raw, info.header_offset + 26))
    assert info.compress_type == zipfile.ZIP_STORED, info.filename
    assert start % 64 == 0, (info.filename, start)
for name, t in torch.load(path, weights_only=True).items():
    print(name, list(t.shape), t.dtype, t.numpy().tobytes().hex())
)", quote(path));
  std::string want;
  for (const auto& [name, t] : w.tensors) {  // map order: the names are not a SqueezeNet's
    std::string hex;
    const auto* p = reinterpret_cast<const unsigned char*>(t.data());
    for (int64_t i = 0; i < t.numel() * 4; ++i) {
      const char* digits = "0123456789abcdef";
      hex += digits[p[i] >> 4];
      hex += digits[p[i] & 15];
    }
    want += name + " " + shape_str(t.shape()) + " torch.float32 " + hex + "\n";
  }
  EXPECT_EQ(out, want);
  fs::remove_all(dir);
}

TEST(PthWriter, SqueezeNetFileHasTorchvisionOrder) {
  const fs::path dir = scratch();
  ModelConfig config;
  config.arch = Arch::squeezenet1_0;
  config.num_classes = 10;
  const WeightFile w = Model(config, 7).to_weights();
  const std::string path = (dir / "squeezenet.pth").string();
  write_file_atomic(path, write_pth(w));
  const std::string out = python(dir, "order", R"(
import sys, torch, torchvision
state = torch.load(sys.argv[1], weights_only=True)
model = torchvision.models.squeezenet1_0(num_classes=10)
assert list(state) == list(model.state_dict()), list(state)
model.load_state_dict(state)
print('ok')
)", quote(path));
  EXPECT_EQ(out, "ok\n");
  expect_same(read_pth(path), w);
  fs::remove_all(dir);
}

// ---- the unpickler alone ------------------------------------------------------------------------------

pickle::Pickle unpickle(const std::string& bytes, const std::set<std::string>& globals = {}) {
  ByteReader in(bytes, "test.pkl");
  return pickle::unpickle(in, globals, "a test");
}

std::string error_of(const std::string& bytes) {
  try {
    unpickle(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Unpickler, ReadsScalars) {
  using K = pickle::Value::Kind;
  // LONG1 -2 as one byte, LONG1 2^63 as nine, BINFLOAT 1.5, BININT -7, SHORT_BINUNICODE, in a TUPLE.
  const std::string bytes = "\x80\x02(\x8a\x01\xfe\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00"
                            "G\x3f\xf8\x00\x00\x00\x00\x00\x00J\xf9\xff\xff\xff\x8c\x02hit."s;
  const pickle::Pickle p = unpickle(bytes);
  const auto& items = p.root().items;
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0]->integer, -2);
  EXPECT_EQ(items[1]->kind, K::big_integer);
  EXPECT_EQ(items[2]->floating, 1.5);
  EXPECT_EQ(items[3]->integer, -7);
  EXPECT_EQ(items[4]->text, "hi");
}

TEST(Unpickler, ReadsWhatTheWriterWrites) {
  pickle::PickleWriter w;
  w.global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();
  w.mark();
  w.string("big");
  w.integer(int64_t{1} << 40);
  w.string("neg");
  w.integer(-5);
  w.setitems();
  const pickle::Pickle p = unpickle(w.finish(), {"collections.OrderedDict"});
  ASSERT_EQ(p.root().kind, pickle::Value::Kind::dict);
  ASSERT_EQ(p.root().entries.size(), 2u);
  EXPECT_EQ(p.root().entries[0].second->integer, int64_t{1} << 40);
  EXPECT_EQ(p.root().entries[1].second->integer, -5);
}

TEST(Unpickler, RefusesWhatAStateDictNeverHas) {
  EXPECT_EQ(error_of("\x80\x02" "cos\nsystem\n."),
            "test.pkl: refusing to load: pickle references os.system, which a test never needs");
  EXPECT_NE(error_of("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93.").find("references builtins.eval"),
            std::string::npos);
  EXPECT_NE(error_of("\x80\x02i").find("unsupported opcode 0x69"), std::string::npos);  // INST
  EXPECT_NE(error_of("\x80\x02h\x05.").find("memo key 5 was never stored"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02(0.").find("stack underflow"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02]K\x01K\x02s.").find("SETITEM needs a dict"), std::string::npos);
  EXPECT_NE(error_of(std::string(5000, '(')).find("MARKs nested deeper"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02X\xff\xff\xff\x7f" "abc").find("truncated"), std::string::npos);
  EXPECT_NE(error_of("\x80\x09.").find("protocol 9"), std::string::npos);
}

}  // namespace
}  // namespace squeezenet
