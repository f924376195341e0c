#pragma once
// A safe, minimal reader and writer of Python pickles, as far as torch.save's state dicts need them.
//
// Reading executes nothing: a pickle is a program for a stack machine whose REDUCE opcode calls any Python
// callable it names, so instead of calling, REDUCE here records the call (callable + arguments) as a value
// for the caller to interpret, and GLOBAL refuses every name the caller did not allow. The one exception is
// collections.OrderedDict, which becomes a plain dict so that SETITEM(S) can fill it.
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/io.h"

namespace squeezenet::pickle {

struct Value {
  enum class Kind {
    none, boolean, integer,
    big_integer,    // an int beyond 64 bits, kept as its little-endian two's complement bytes in `text`
    floating, string, bytes, tuple, list, dict,
    global,         // a module attribute such as torch.FloatStorage; `text` is "module.name"
    call,           // REDUCE: items = {callable, argument tuple}
    persistent_id,  // BINPERSID: items = {the id}; torch names its storages this way
  };
  Kind kind = Kind::none;
  int64_t integer = 0;  // boolean, integer
  double floating = 0.0;
  std::string text;     // string, bytes, big_integer, global
  std::vector<Value*> items;                          // tuple, list, call, persistent_id
  std::vector<std::pair<Value*, Value*>> entries;     // dict, in insertion order
};

const char* kind_name(Value::Kind kind);

// One unpickled object graph. Values may be shared (the memo hands out the same value twice) and, through
// list/dict mutation, may even contain themselves: walk them with a fixed shape in mind, not recursively.
class Pickle {
 public:
  const Value& root() const { return *root_; }
  // Every BINPERSID result in the order met, so that a caller can find all storages without a walk.
  const std::vector<const Value*>& persistent_ids() const { return persistent_ids_; }

 private:
  friend class Unpickler;
  std::deque<Value> values_;  // owns every value; a deque so that pointers stay valid as it grows
  const Value* root_ = nullptr;
  std::vector<const Value*> persistent_ids_;
};

// Reads one pickle from `in` and leaves `in` just past its STOP opcode (torch's legacy format is several
// pickles in a row). GLOBAL names not in `allowed_globals` ("module.name") are refused with an Error:
// "<in.what()>: refusing to load: pickle references os.system, which <needed_by> never needs".
// Memory is bounded whatever the input: value, stack, mark and memo counts are capped.
Pickle unpickle(ByteReader& in, const std::set<std::string>& allowed_globals, std::string_view needed_by);

// Emits protocol-2 opcodes, the subset a state_dict needs; strings are UTF-8 as given.
class PickleWriter {
 public:
  PickleWriter();  // PROTO 2
  void global(std::string_view module, std::string_view name);
  void mark();
  void tuple();  // MARK ... TUPLE
  void empty_tuple();
  void reduce();
  void setitems();  // MARK key value ... SETITEMS
  void persistent_id();
  void string(std::string_view s);
  void integer(int64_t v);
  void boolean(bool v);
  std::string finish();  // STOP, then the bytes

 private:
  std::string out_;
};

}  // namespace squeezenet::pickle
