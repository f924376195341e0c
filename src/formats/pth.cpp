// torch.save's .pth files. Both containers hold the same pickled state_dict, whose tensors name their
// storages by persistent id; they differ only in where the storage bytes are:
//   zip (torch >= 1.6):  <top>/data.pkl, <top>/data/<key> (top folder named after the file torch saved to)
//   legacy (older torch, the official 2017 torchvision SqueezeNet files): pickles in a row (magic number,
//   protocol version, sys_info, the state_dict, the list of storage keys), then each storage as an int64
//   element count followed by its bytes.
#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "formats/pickle.h"
#include "formats/readers.h"
#include "formats/zip_archive.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

namespace {

using pickle::Value;
using Kind = Value::Kind;

constexpr uint64_t kMaxPickleBytes = uint64_t{64} << 20;
// For one storage and for all tensors together as float32: the bound of the largest file read_file accepts.
constexpr uint64_t kMaxBytes = uint64_t{2} << 30;
constexpr std::size_t kAlignment = 64;  // torch.save's, so that torch can map tensor data straight from the file
constexpr const char* kNeededBy = "a state_dict";

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
float load_f32(const char* p) { return load<float>(p); }
float load_f64(const char* p) { return static_cast<float>(load<double>(p)); }
float load_f16(const char* p) { return half_to_float(load<uint16_t>(p)); }
float load_bf16(const char* p) { return std::bit_cast<float>(uint32_t{load<uint16_t>(p)} << 16); }

struct StorageType {
  const char* global;
  const char* dtype;
  int64_t element_size;
  float (*to_float)(const char*);  // null for types that weights never have
};

constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", "float32", 4, load_f32},
    {"torch.HalfStorage", "float16", 2, load_f16},
    {"torch.BFloat16Storage", "bfloat16", 2, load_bf16},
    {"torch.DoubleStorage", "float64", 8, load_f64},
    // Checkpoints keep integer tensors beside the weights (optimizer steps, BatchNorm counters): their
    // sizes are needed to step over their bytes in a legacy file, and a weight of these types is refused.
    {"torch.LongStorage", "int64", 8, nullptr},
    {"torch.IntStorage", "int32", 4, nullptr},
    {"torch.ShortStorage", "int16", 2, nullptr},
    {"torch.CharStorage", "int8", 1, nullptr},
    {"torch.ByteStorage", "uint8", 1, nullptr},
    {"torch.BoolStorage", "bool", 1, nullptr},
};

const std::set<std::string>& allowed_globals() {
  static const std::set<std::string> globals = [] {
    std::set<std::string> g{"collections.OrderedDict", "torch._utils._rebuild_tensor",
                            "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter"};
    for (const StorageType& t : kStorageTypes) g.insert(t.global);
    return g;
  }();
  return globals;
}

// ---- reading values of the expected kinds, with errors that say where -------------------------------

std::string a_kind(const Value& v) {
  const std::string name = pickle::kind_name(v.kind);
  return (name.find_first_of("aeiou") == 0 ? "an " : "a ") + name;
}

int64_t as_int(const Value& v, const std::string& where) {
  if (v.kind != Kind::integer) throw Error(where + " is " + a_kind(v) + ", expected an int");
  return v.integer;
}

const std::string& as_string(const Value& v, const std::string& where) {
  if (v.kind != Kind::string) throw Error(where + " is " + a_kind(v) + ", expected a string");
  return v.text;
}

std::vector<int64_t> as_sizes(const Value& v, const std::string& where) {
  if (v.kind != Kind::tuple && v.kind != Kind::list) throw Error(where + " is " + a_kind(v) + ", expected a tuple");
  std::vector<int64_t> out;
  for (const Value* item : v.items) {
    out.push_back(as_int(*item, where));
    if (out.back() < 0) throw Error(where + " holds the negative number " + std::to_string(out.back()));
  }
  return out;
}

const Value* dict_get(const Value& dict, std::string_view key) {
  const Value* found = nullptr;
  for (const auto& [k, v] : dict.entries)
    if (k->kind == Kind::string && k->text == key) found = v;  // the last one wins, as in Python
  return found;
}

// ---- storages --------------------------------------------------------------------------------------

// What a persistent id says about a storage. Legacy ids may name a view: a slice of a larger storage.
struct StorageRef {
  std::string key;
  const StorageType* type = nullptr;
  int64_t numel = 0;  // of the whole storage
  int64_t view_offset = 0;
  int64_t view_numel = 0;
};

// ('storage', torch.FloatStorage, key, location, numel) in zip files; legacy ones add
// view_metadata: None or (view_key, offset, view_numel).
StorageRef storage_ref(const Value& persistent_id, const std::string& what) {
  const Value& id = *persistent_id.items.at(0);
  const std::string where = what + ": storage id";
  if (id.kind != Kind::tuple || id.items.size() < 5 || id.items.size() > 6 ||
      id.items[0]->kind != Kind::string || id.items[0]->text != "storage")
    throw Error(where + " is not a ('storage', type, key, location, size) tuple");
  StorageRef ref;
  ref.key = as_string(*id.items[2], where + " key");
  const std::string at = what + ": storage " + quote_input(ref.key);
  const Value& type = *id.items[1];
  for (const StorageType& t : kStorageTypes)
    if (type.kind == Kind::global && type.text == t.global) ref.type = &t;
  if (ref.type == nullptr) throw Error(at + " has type " + (type.kind == Kind::global ? printable(type.text) : a_kind(type)) +
                                       ", which is not a torch storage type");
  ref.numel = as_int(*id.items[4], at + " size");
  if (ref.numel < 0 || static_cast<uint64_t>(ref.numel) > kMaxBytes / static_cast<uint64_t>(ref.type->element_size))
    throw Error(at + " claims " + std::to_string(ref.numel) + " " + ref.type->dtype + " elements, more than the " +
                std::to_string(kMaxBytes) + " bytes allowed");
  ref.view_numel = ref.numel;
  if (id.items.size() == 6 && id.items[5]->kind != Kind::none) {
    const Value& view = *id.items[5];
    if (view.kind != Kind::tuple || view.items.size() != 3) throw Error(at + " has a malformed view description");
    ref.view_offset = as_int(*view.items[1], at + " view offset");
    ref.view_numel = as_int(*view.items[2], at + " view size");
    if (ref.view_offset < 0 || ref.view_numel < 0 || ref.view_offset > ref.numel ||
        ref.view_numel > ref.numel - ref.view_offset)
      throw Error(at + " has a view [" + std::to_string(ref.view_offset) + ", +" + std::to_string(ref.view_numel) +
                  ") outside its " + std::to_string(ref.numel) + " elements");
  }
  return ref;
}

// The bytes of a whole storage; where they live depends on the container.
using StorageSource = std::function<std::string_view(const StorageRef&)>;

// ---- tensors ---------------------------------------------------------------------------------------

int64_t checked_mul(int64_t a, int64_t b, const std::string& where) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw Error(where + ": sizes overflow");
  return r;
}
int64_t checked_add(int64_t a, int64_t b, const std::string& where) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw Error(where + ": sizes overflow");
  return r;
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata]), or the
// _rebuild_tensor(storage, offset, size, stride) of 2017's torch, or either wrapped in _rebuild_parameter.
// `budget` is what is left of kMaxBytes for the float32 results.
Tensor rebuild_tensor(const Value& value, const StorageSource& source, const std::string& what,
                      const std::string& name, uint64_t& budget) {
  const std::string at = what + ": tensor " + quote_input(name);
  const Value* call = &value;
  if (call->kind == Kind::call && call->items[0]->text == "torch._utils._rebuild_parameter") {
    if (call->items[1]->items.empty()) throw Error(at + ": _rebuild_parameter without arguments");
    call = call->items[1]->items[0];
  }
  if (call->kind != Kind::call)
    throw Error(at + " is " + a_kind(*call) + ", not a tensor (expected a state_dict, or a dict holding one "
                "under 'state_dict' or 'model')");
  const std::string& callee = call->items[0]->text;
  const std::vector<Value*>& args = call->items[1]->items;
  const bool v2 = callee == "torch._utils._rebuild_tensor_v2";
  if (!v2 && callee != "torch._utils._rebuild_tensor") throw Error(at + " is made by " + printable(callee) + ", not a tensor");
  if (v2 ? args.size() < 6 || args.size() > 7 : args.size() != 4)
    throw Error(at + ": " + callee + " called with " + std::to_string(args.size()) + " arguments");
  if (args[0]->kind != Kind::persistent_id) throw Error(at + ": storage is " + a_kind(*args[0]) + ", not a storage id");

  const StorageRef ref = storage_ref(*args[0], what);
  if (ref.type->to_float == nullptr)
    throw Error(at + " holds " + ref.type->dtype + " data (" + ref.type->global +
                "); only float16, bfloat16, float32 and float64 weights can be loaded");
  const int64_t offset = as_int(*args[1], at + " storage offset");
  const std::vector<int64_t> size = as_sizes(*args[2], at + " size");
  const std::vector<int64_t> stride = as_sizes(*args[3], at + " stride");
  if (size.size() != stride.size())
    throw Error(at + " has " + std::to_string(size.size()) + " sizes but " + std::to_string(stride.size()) + " strides");
  if (offset < 0) throw Error(at + " has a negative storage offset");

  int64_t numel = 1, last = offset;  // last: the storage element the tensor's last element reads
  for (std::size_t d = 0; d < size.size(); ++d) {
    numel = checked_mul(numel, size[d], at);
    if (size[d] > 0) last = checked_add(last, checked_mul(size[d] - 1, stride[d], at), at);
  }
  if (static_cast<uint64_t>(numel) > budget / sizeof(float))
    throw Error(at + " has " + std::to_string(numel) + " elements, more than the " + std::to_string(kMaxBytes) +
                " bytes allowed for all tensors together");
  budget -= static_cast<uint64_t>(numel) * sizeof(float);
  if (numel > 0 && last >= ref.view_numel)
    throw Error(at + " of size " + shape_str(size) + " reads storage element " + std::to_string(last) +
                ", but its storage " + quote_input(ref.key) + " has only " + std::to_string(ref.view_numel));
  // Only a broadcast view (stride 0) has more elements than its storage: a weight never is one, and
  // refusing it keeps a small file from asking for a huge tensor.
  if (numel > ref.view_numel)
    throw Error(at + " has " + std::to_string(numel) + " elements, more than the " + std::to_string(ref.view_numel) +
                " of its storage " + quote_input(ref.key));

  const std::string_view bytes = source(ref);
  const int64_t element = ref.type->element_size;
  if (bytes.size() != static_cast<uint64_t>(ref.numel * element))
    throw Error(at + ": storage " + quote_input(ref.key) + " holds " + std::to_string(bytes.size()) + " bytes, its id says " +
                std::to_string(ref.numel) + " " + ref.type->dtype + " elements");
  const char* base = bytes.data() + ref.view_offset * element;

  // Walks the strided layout in row-major order, so any saved view comes out as a dense tensor.
  Tensor out(Shape(size.begin(), size.end()));
  std::vector<int64_t> index(size.size(), 0);
  int64_t pos = offset;
  for (int64_t i = 0; i < numel; ++i) {
    out[i] = ref.type->to_float(base + pos * element);
    for (std::size_t d = size.size(); d-- > 0;) {
      if (++index[d] < size[d]) {
        pos += stride[d];
        break;
      }
      pos -= (size[d] - 1) * stride[d];
      index[d] = 0;
    }
  }
  return out;
}

// Checkpoints often wrap the state_dict with training state: {"state_dict": ...} or {"model": ...}.
const Value& unwrap_state_dict(const Value& root, const std::string& what) {
  if (root.kind != Kind::dict)
    throw Error(what + ": holds " + a_kind(root) + ", not a state_dict (a dict of tensor names to tensors)");
  for (const char* wrapper : {"state_dict", "model"})
    if (const Value* inner = dict_get(root, wrapper); inner && inner->kind == Kind::dict) return *inner;
  return root;
}

WeightFile weights_from(const Value& root, const StorageSource& source, const std::string& what) {
  const Value& state_dict = unwrap_state_dict(root, what);
  WeightFile out;
  uint64_t budget = kMaxBytes;
  for (const auto& [key, value] : state_dict.entries) {
    const std::string& name = as_string(*key, what + ": state_dict key");
    Tensor t = rebuild_tensor(*value, source, what, name, budget);
    // nn.DataParallel saves its module's parameters under "module."
    const std::string plain = name.starts_with("module.") ? name.substr(7) : name;
    if (!out.tensors.emplace(plain, std::move(t)).second)
      throw Error(what + ": tensor " + quote_input(plain) + " appears twice in the state_dict");
  }
  if (out.tensors.empty()) throw Error(what + ": the state_dict holds no tensors");
  return out;
}

// ---- the two containers ----------------------------------------------------------------------------

WeightFile read_zip(std::string_view bytes, const std::string& what) {
  ZipReader zip(bytes, what);
  std::string top;
  for (const std::string& name : zip.names()) {
    const std::size_t slash = name.find('/');
    if (slash == std::string::npos || name.compare(slash, std::string::npos, "/data.pkl") != 0) continue;
    if (!top.empty()) throw Error(what + ": zip archive has more than one data.pkl (" + quote_input(top) + ", " + quote_input(name.substr(0, slash)) + ")");
    top = name.substr(0, slash);
  }
  if (top.empty()) throw Error(what + ": zip archive without a <folder>/data.pkl entry, so not a torch.save file");
  if (zip.contains(top + "/byteorder")) {
    const std::string order = zip.read(top + "/byteorder", 16);
    if (order != "little")
      throw Error(what + ": tensors are stored in " + quote_input(order) + " byte order; re-save the file on a little-endian machine");
  }
  const std::string pkl_name = top + "/data.pkl";
  const std::string pkl = zip.read(pkl_name, kMaxPickleBytes);
  ByteReader in(pkl, what + ": " + pkl_name);
  const pickle::Pickle p = pickle::unpickle(in, allowed_globals(), kNeededBy);

  std::map<std::string, std::string> loaded;
  auto source = [&](const StorageRef& ref) -> std::string_view {
    auto it = loaded.find(ref.key);
    if (it == loaded.end()) {
      const auto need = static_cast<uint64_t>(ref.numel * ref.type->element_size);
      it = loaded.emplace(ref.key, zip.read(top + "/data/" + ref.key, kMaxBytes, need)).first;
    }
    return it->second;
  };
  return weights_from(p.root(), source, what);
}

// 0x1950a86a20f9469cfc6c, torch's magic number, as the little-endian bytes its pickle holds.
constexpr std::string_view kLegacyMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t kLegacyProtocol = 1001;

WeightFile read_legacy(std::string_view bytes, const std::string& what) {
  ByteReader in(bytes, what);
  auto next = [&] { return pickle::unpickle(in, allowed_globals(), kNeededBy); };
  const pickle::Pickle magic = next();
  if (magic.root().kind != Kind::big_integer || magic.root().text != kLegacyMagic)
    throw Error(what + ": not a torch.save file (neither a zip archive nor a legacy stream with torch's magic number)");
  const pickle::Pickle protocol = next();
  if (protocol.root().kind != Kind::integer || protocol.root().integer != kLegacyProtocol)
    throw Error(what + ": legacy torch.save protocol is not " + std::to_string(kLegacyProtocol) +
                "; load and re-save the file with a recent torch");
  const pickle::Pickle sys_info = next();
  if (sys_info.root().kind == Kind::dict)
    if (const Value* le = dict_get(sys_info.root(), "little_endian"); le && le->kind == Kind::boolean && !le->integer)
      throw Error(what + ": saved on a big-endian machine; re-save the file on a little-endian one");
  const pickle::Pickle data = next();
  const pickle::Pickle keys = next();

  // The storage section gives element counts only; the element sizes come from the ids in the pickle.
  std::map<std::string, const StorageType*> types;
  for (const Value* id : data.persistent_ids()) {
    const StorageRef ref = storage_ref(*id, what);
    if (!types.emplace(ref.key, ref.type).second && types[ref.key] != ref.type)
      throw Error(what + ": storage " + quote_input(ref.key) + " is named with two different types");
  }
  if (keys.root().kind != Kind::list) throw Error(what + ": storage key list is " + a_kind(keys.root()));
  std::map<std::string, std::string_view> raw;
  for (const Value* k : keys.root().items) {
    const std::string& key = as_string(*k, what + ": storage key");
    auto type = types.find(key);
    if (type == types.end()) throw Error(what + ": storage " + quote_input(key) + " is listed, but nothing in the pickle uses it");
    const int64_t size = type->second->element_size;
    const auto count = in.read<int64_t>("storage size");
    if (count < 0 || static_cast<uint64_t>(count) > in.remaining() / static_cast<uint64_t>(size))
      throw Error(what + ": truncated: storage " + quote_input(key) + " claims " + std::to_string(count) + " elements, more than the " +
                  std::to_string(in.remaining()) + " bytes left in the file");
    if (!raw.emplace(key, in.take(static_cast<uint64_t>(count * size), "storage")).second)
      throw Error(what + ": storage " + quote_input(key) + " is listed twice");
  }
  auto source = [&](const StorageRef& ref) -> std::string_view {
    auto it = raw.find(ref.key);
    if (it == raw.end()) throw Error(what + ": storage " + quote_input(ref.key) + " is missing from the file");
    return it->second;
  };
  return weights_from(data.root(), source, what);
}

// ---- writing ---------------------------------------------------------------------------------------

// torchvision's state_dict order when the names are a SqueezeNet's, so that the file lists its tensors as
// torch's own would; otherwise name order.
std::vector<std::string> write_order(const WeightFile& weights) {
  for (Arch arch : {Arch::squeezenet1_0, Arch::squeezenet1_1}) {
    ModelConfig config;
    config.arch = arch;
    const std::vector<std::string> names = parameter_names(config);
    if (names.size() == weights.tensors.size() &&
        std::all_of(names.begin(), names.end(), [&](const std::string& n) { return weights.tensors.count(n) > 0; }))
      return names;
  }
  std::vector<std::string> names;
  for (const auto& [name, tensor] : weights.tensors) names.push_back(name);
  return names;
}

void write_ints(pickle::PickleWriter& p, const std::vector<int64_t>& values) {
  p.mark();
  for (int64_t v : values) p.integer(v);
  p.tuple();
}

}  // namespace

WeightFile read_pth_bytes(std::string_view bytes, const std::string& name) {
  if (bytes.starts_with(std::string_view("PK\x03\x04", 4))) return read_zip(bytes, name);
  return read_legacy(bytes, name);
}

WeightFile read_pth(const std::string& path) { return read_pth_bytes(read_file(path), path); }

std::string write_pth(const WeightFile& weights) {
  const std::vector<std::string> order = write_order(weights);
  pickle::PickleWriter p;
  p.global("collections", "OrderedDict");
  p.empty_tuple();
  p.reduce();
  p.mark();
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Tensor& t = weights.tensors.at(order[i]);
    std::vector<int64_t> stride(t.shape().size());
    int64_t step = 1;
    for (std::size_t d = stride.size(); d-- > 0;) {
      stride[d] = step;
      step *= t.shape()[d];
    }
    p.string(order[i]);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.mark();
    p.mark();
    p.string("storage");
    p.global("torch", "FloatStorage");
    p.string(std::to_string(i));
    p.string("cpu");
    p.integer(t.numel());
    p.tuple();
    p.persistent_id();
    p.integer(0);  // storage offset
    write_ints(p, t.shape());
    write_ints(p, stride);
    p.boolean(false);  // requires_grad
    p.global("collections", "OrderedDict");  // no backward hooks
    p.empty_tuple();
    p.reduce();
    p.tuple();
    p.reduce();
  }
  p.setitems();
  const std::string pkl = p.finish();

  std::vector<ZipEntry> entries{{"archive/data.pkl", pkl}, {"archive/byteorder", "little"}};
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Tensor& t = weights.tensors.at(order[i]);
    entries.push_back({"archive/data/" + std::to_string(i),
                       {reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float)}});
  }
  entries.push_back({"archive/version", "3\n"});
  return write_zip(entries, kAlignment);
}

}  // namespace squeezenet
