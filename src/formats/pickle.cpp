#include "formats/pickle.h"

#include <bit>
#include <cstring>
#include <unordered_map>

#include "squeezenet/error.h"

namespace squeezenet::pickle {

namespace {
// Far above what any state_dict pickle needs (a 50-tensor SqueezeNet uses ~600 values), low enough that a
// hostile pickle cannot make us hold more than a few hundred MiB whatever its size.
constexpr std::size_t kMaxValues = std::size_t{1} << 21;
constexpr std::size_t kMaxLinks = std::size_t{1} << 23;  // slots of all tuples, lists and dicts together
constexpr std::size_t kMaxStack = std::size_t{1} << 20;
constexpr std::size_t kMaxMarks = std::size_t{1} << 12;
constexpr std::size_t kMaxMemo = std::size_t{1} << 21;
constexpr std::size_t kMaxGlobalName = 1024;
constexpr int kHighestProtocol = 5;

std::string hex_byte(unsigned char c) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[c >> 4] + digits[c & 15];
}
}  // namespace

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::none: return "None";
    case Value::Kind::boolean: return "bool";
    case Value::Kind::integer: return "int";
    case Value::Kind::big_integer: return "int (beyond 64 bits)";
    case Value::Kind::floating: return "float";
    case Value::Kind::string: return "str";
    case Value::Kind::bytes: return "bytes";
    case Value::Kind::tuple: return "tuple";
    case Value::Kind::list: return "list";
    case Value::Kind::dict: return "dict";
    case Value::Kind::global: return "global";
    case Value::Kind::call: return "call";
    case Value::Kind::persistent_id: return "persistent id";
  }
  return "?";
}

class Unpickler {
 public:
  Unpickler(ByteReader& in, const std::set<std::string>& allowed, std::string_view needed_by)
      : in_(in), allowed_(allowed), needed_by_(needed_by) {}

  Pickle run() {
    for (;;) {
      op_offset_ = in_.offset();
      const auto op = in_.read<unsigned char>("pickle opcode");
      if (op == '.') {
        result_.root_ = pop();
        return std::move(result_);
      }
      step(op);
    }
  }

 private:
  using Kind = Value::Kind;

  [[noreturn]] void fail(const std::string& why) const {
    throw Error(in_.what() + ": pickle opcode at offset " + std::to_string(op_offset_) + ": " + why);
  }

  Value* make(Kind kind) {
    if (result_.values_.size() >= kMaxValues) fail("more than " + std::to_string(kMaxValues) + " objects");
    Value& v = result_.values_.emplace_back();
    v.kind = kind;
    return &v;
  }
  void count_links(std::size_t n) {
    links_ += n;
    if (links_ > kMaxLinks) fail("more than " + std::to_string(kMaxLinks) + " container slots");
  }

  // The part of the stack above the innermost mark belongs to that mark, as in Python's own unpickler.
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Value* v) {
    if (stack_.size() >= kMaxStack) fail("stack deeper than " + std::to_string(kMaxStack));
    stack_.push_back(v);
  }
  Value* top() const {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  Value* pop() {
    Value* v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<Value*> pop_to_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  Value* pop_kind(Kind kind, const char* role) {
    Value* v = pop();
    if (v->kind != kind) fail(std::string(role) + " is a " + kind_name(v->kind) + ", expected a " + kind_name(kind));
    return v;
  }
  Value* top_kind(Kind kind, const char* op) const {
    Value* v = top();
    if (v->kind != kind)
      fail(std::string(op) + " needs a " + kind_name(kind) + " below its arguments, found a " + kind_name(v->kind));
    return v;
  }

  void push_tuple(std::vector<Value*> items) {
    count_links(items.size());
    Value* t = make(Kind::tuple);
    t->items = std::move(items);
    push(t);
  }
  void push_tuple_of(std::size_t n) {
    if (stack_.size() < floor() + n) fail("stack underflow");
    std::vector<Value*> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    push_tuple(std::move(items));
  }
  void push_integer(int64_t v) {
    Value* x = make(Kind::integer);
    x->integer = v;
    push(x);
  }
  void push_text(Kind kind, uint64_t size) {
    Value* x = make(kind);
    x->text = std::string(in_.take(size, "pickle string"));
    push(x);
  }

  // Python's LONG opcodes: little-endian two's complement of any length.
  void push_long(std::string_view bytes) {
    std::size_t n = bytes.size();
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
    while (n > 8 && ((byte(n - 1) == 0x00 && byte(n - 2) < 0x80) || (byte(n - 1) == 0xff && byte(n - 2) >= 0x80))) --n;
    if (n > 8) {
      Value* x = make(Kind::big_integer);
      x->text = std::string(bytes.substr(0, n));
      push(x);
      return;
    }
    uint64_t u = 0;
    for (std::size_t i = 0; i < n; ++i) u |= uint64_t{byte(i)} << (8 * i);
    if (n > 0 && n < 8 && (byte(n - 1) & 0x80)) u |= ~uint64_t{0} << (8 * n);
    push_integer(static_cast<int64_t>(u));
  }

  std::string read_line() {
    std::string s;
    for (;;) {
      const char c = in_.read<char>("GLOBAL name");
      if (c == '\n') return s;
      if (s.size() >= kMaxGlobalName) fail("GLOBAL name longer than " + std::to_string(kMaxGlobalName) + " bytes");
      s += c;
    }
  }

  void push_global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (!allowed_.count(full))
      throw Error(in_.what() + ": refusing to load: pickle references " + printable(full) + ", which " + std::string(needed_by_) +
                  " never needs");
    Value* g = make(Kind::global);
    g->text = full;
    push(g);
  }

  void memo_put(uint64_t index) {
    Value* v = top();
    if (memo_.size() >= kMaxMemo && !memo_.count(index)) fail("memo larger than " + std::to_string(kMaxMemo));
    memo_[index] = v;
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo key " + std::to_string(index) + " was never stored");
    push(it->second);
  }

  void reduce() {
    Value* args = pop_kind(Kind::tuple, "REDUCE's argument");
    Value* callable = pop_kind(Kind::global, "REDUCE's callable");
    if (callable->text == "collections.OrderedDict") {
      push(ordered_dict(*args));
      return;
    }
    Value* c = make(Kind::call);
    c->items = {callable, args};
    push(c);
  }

  // OrderedDict() or, as Python 2 pickled it, OrderedDict([[key, value], ...]).
  Value* ordered_dict(const Value& args) {
    Value* d = make(Kind::dict);
    if (args.items.empty()) return d;
    const Value* pairs = args.items[0];
    if (args.items.size() > 1 || (pairs->kind != Kind::list && pairs->kind != Kind::tuple))
      fail("OrderedDict called with arguments other than a list of pairs");
    count_links(pairs->items.size());
    for (const Value* p : pairs->items) {
      if ((p->kind != Kind::list && p->kind != Kind::tuple) || p->items.size() != 2)
        fail("OrderedDict item is not a [key, value] pair");
      d->entries.emplace_back(p->items[0], p->items[1]);
    }
    return d;
  }

  void step(unsigned char op) {
    switch (op) {
      case 0x80: {  // PROTO
        const auto v = in_.read<uint8_t>("protocol");
        if (v > kHighestProtocol) fail("pickle protocol " + std::to_string(v) + " is newer than 5");
        return;
      }
      case 0x95: in_.read<uint64_t>("frame size"); return;  // FRAME: a read-ahead hint, nothing to do
      case 'c': {  // GLOBAL
        const std::string module = read_line();
        push_global(module, read_line());
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        Value* name = pop_kind(Kind::string, "STACK_GLOBAL name");
        Value* module = pop_kind(Kind::string, "STACK_GLOBAL module");
        push_global(module->text, name->text);
        return;
      }
      case 'q': memo_put(in_.read<uint8_t>("memo key")); return;     // BINPUT
      case 'r': memo_put(in_.read<uint32_t>("memo key")); return;    // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); return;                      // MEMOIZE
      case 'h': memo_get(in_.read<uint8_t>("memo key")); return;      // BINGET
      case 'j': memo_get(in_.read<uint32_t>("memo key")); return;     // LONG_BINGET
      case '}': push(make(Kind::dict)); return;                        // EMPTY_DICT
      case ']': push(make(Kind::list)); return;                        // EMPTY_LIST
      case ')': push(make(Kind::tuple)); return;                       // EMPTY_TUPLE
      case 't': push_tuple(pop_to_mark()); return;                     // TUPLE
      case 0x85: push_tuple_of(1); return;                             // TUPLE1
      case 0x86: push_tuple_of(2); return;                             // TUPLE2
      case 0x87: push_tuple_of(3); return;                             // TUPLE3
      case '(':                                                        // MARK
        if (marks_.size() >= kMaxMarks) fail("MARKs nested deeper than " + std::to_string(kMaxMarks));
        marks_.push_back(stack_.size());
        return;
      case '0': pop(); return;          // POP
      case '1': pop_to_mark(); return;  // POP_MARK
      case '2': push(top()); return;    // DUP
      case 's': {                       // SETITEM
        Value* value = pop();
        Value* key = pop();
        count_links(1);
        top_kind(Kind::dict, "SETITEM")->entries.emplace_back(key, value);
        return;
      }
      case 'u': {  // SETITEMS
        std::vector<Value*> items = pop_to_mark();
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        Value* d = top_kind(Kind::dict, "SETITEMS");
        count_links(items.size() / 2);
        for (std::size_t i = 0; i < items.size(); i += 2) d->entries.emplace_back(items[i], items[i + 1]);
        return;
      }
      case 'a': {  // APPEND
        Value* value = pop();
        count_links(1);
        top_kind(Kind::list, "APPEND")->items.push_back(value);
        return;
      }
      case 'e': {  // APPENDS
        std::vector<Value*> items = pop_to_mark();
        Value* l = top_kind(Kind::list, "APPENDS");
        count_links(items.size());
        l->items.insert(l->items.end(), items.begin(), items.end());
        return;
      }
      case 'J': push_integer(in_.read<int32_t>("BININT")); return;
      case 'K': push_integer(in_.read<uint8_t>("BININT1")); return;
      case 'M': push_integer(in_.read<uint16_t>("BININT2")); return;
      case 0x8a: push_long(in_.take(in_.read<uint8_t>("LONG1 size"), "LONG1")); return;
      case 0x8b: {  // LONG4
        const auto n = in_.read<int32_t>("LONG4 size");
        if (n < 0) fail("negative LONG4 size");
        push_long(in_.take(static_cast<uint64_t>(n), "LONG4"));
        return;
      }
      case 'X': push_text(Kind::string, in_.read<uint32_t>("BINUNICODE size")); return;
      case 0x8c: push_text(Kind::string, in_.read<uint8_t>("SHORT_BINUNICODE size")); return;
      case 0x8d: push_text(Kind::string, in_.read<uint64_t>("BINUNICODE8 size")); return;
      case 'T': {  // BINSTRING (Python 2 str)
        const auto n = in_.read<int32_t>("BINSTRING size");
        if (n < 0) fail("negative BINSTRING size");
        push_text(Kind::string, static_cast<uint64_t>(n));
        return;
      }
      case 'U': push_text(Kind::string, in_.read<uint8_t>("SHORT_BINSTRING size")); return;
      case 'B': push_text(Kind::bytes, in_.read<uint32_t>("BINBYTES size")); return;
      case 'C': push_text(Kind::bytes, in_.read<uint8_t>("SHORT_BINBYTES size")); return;
      case 0x8e: push_text(Kind::bytes, in_.read<uint64_t>("BINBYTES8 size")); return;
      case 'N': push(make(Kind::none)); return;
      case 0x88:
      case 0x89: {  // NEWTRUE, NEWFALSE
        Value* b = make(Kind::boolean);
        b->integer = op == 0x88;
        push(b);
        return;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        Value* f = make(Kind::floating);
        f->floating = std::bit_cast<double>(__builtin_bswap64(in_.read<uint64_t>("BINFLOAT")));
        push(f);
        return;
      }
      case 'R': reduce(); return;
      case 'b': {  // BUILD
        pop();     // the state: for a state_dict, its _metadata attribute, which loading does not need
        Value* target = top();
        if (target->kind != Kind::dict)
          fail(std::string("BUILD sets the state of a ") + kind_name(target->kind) + "; only dicts are supported");
        return;
      }
      case 'Q': {  // BINPERSID
        Value* id = make(Kind::persistent_id);
        id->items = {pop()};
        result_.persistent_ids_.push_back(id);
        push(id);
        return;
      }
      default:
        fail("unsupported opcode " + hex_byte(op) + ", which " + std::string(needed_by_) + " does not use");
    }
  }

  ByteReader& in_;
  const std::set<std::string>& allowed_;
  std::string_view needed_by_;
  Pickle result_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
  std::size_t links_ = 0;
  uint64_t op_offset_ = 0;
};

Pickle unpickle(ByteReader& in, const std::set<std::string>& allowed_globals, std::string_view needed_by) {
  return Unpickler(in, allowed_globals, needed_by).run();
}

namespace {
void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
}  // namespace

PickleWriter::PickleWriter() : out_("\x80\x02") {}

void PickleWriter::global(std::string_view module, std::string_view name) {
  out_ += 'c';
  out_ += module;
  out_ += '\n';
  out_ += name;
  out_ += '\n';
}
void PickleWriter::mark() { out_ += '('; }
void PickleWriter::tuple() { out_ += 't'; }
void PickleWriter::empty_tuple() { out_ += ')'; }
void PickleWriter::reduce() { out_ += 'R'; }
void PickleWriter::setitems() { out_ += 'u'; }
void PickleWriter::persistent_id() { out_ += 'Q'; }

void PickleWriter::string(std::string_view s) {
  if (s.size() > UINT32_MAX) throw Error("pickle: string of " + std::to_string(s.size()) + " bytes is too long");
  out_ += 'X';
  put_le(out_, s.size(), 4);
  out_ += s;
}

void PickleWriter::integer(int64_t v) {
  if (v >= 0 && v < 256) {
    out_ += 'K';
    put_le(out_, static_cast<uint64_t>(v), 1);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out_ += 'J';
    put_le(out_, static_cast<uint64_t>(v), 4);
  } else {
    out_ += "\x8a\x08";  // LONG1 of 8 bytes
    put_le(out_, static_cast<uint64_t>(v), 8);
  }
}

void PickleWriter::boolean(bool v) { out_ += v ? '\x88' : '\x89'; }

std::string PickleWriter::finish() {
  out_ += '.';
  return std::move(out_);
}

}  // namespace squeezenet::pickle
