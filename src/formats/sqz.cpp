// Reader and writer of .sqz; docs/sqz-format.md is the byte-for-byte description this code follows.
#include "formats/sqz.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "compress/codebook.h"
#include "compress/huffman.h"
#include "compress/rans.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet {

namespace {
constexpr char kMagic[4] = {'S', 'Q', 'Z', 'N'};
constexpr uint32_t kVersion = 1;
constexpr std::size_t kChecksumBytes = 32;
enum Kind : uint8_t { kFloat32 = 0, kFloat16 = 1, kCoded = 2 };
enum Positions : uint8_t { kEveryPosition = 0, kGaps = 1 };
constexpr uint8_t kGapEscape = 255;  // "255 more zeros, no weight yet"
constexpr int kMaxCodebook = 255;
constexpr uint32_t kMaxMetadata = 256, kMaxTensors = 1024, kMaxValueBytes = 1u << 20;
constexpr int64_t kMaxTensorElements = int64_t{1} << 24, kMaxTotalElements = int64_t{1} << 26;

std::array<unsigned char, kChecksumBytes> sha256(std::string_view bytes) {
  std::array<unsigned char, kChecksumBytes> out{};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), nullptr) != 1)
    throw Error("SHA-256 failed");
  return out;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

bool exact_in_half(const float* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (bits_of(half_to_float(float_to_half(v[i]))) != bits_of(v[i])) return false;
  return true;
}

class Out {
 public:
  template <class T>
  void put(T v) {
    s_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void bytes(std::string_view b) { s_.append(b); }
  void floats(const float* v, std::size_t n, bool half) {
    for (std::size_t i = 0; i < n; ++i) half ? put(float_to_half(v[i])) : put(v[i]);
  }
  std::string& str() { return s_; }

 private:
  std::string s_;
};

// A symbol stream ready to store: its Huffman table and bits.
struct Coded {
  std::array<uint8_t, 256> lengths{};
  std::string bits;
  uint64_t size() const {
    std::vector<uint16_t> count;
    std::vector<uint8_t> symbols;
    canonical_table(lengths, count, symbols);
    return 1 + 2 * count.size() + symbols.size() + 4 + bits.size();
  }
  void write(Out& out) const {
    std::vector<uint16_t> count;
    std::vector<uint8_t> symbols;
    canonical_table(lengths, count, symbols);
    out.put(static_cast<uint8_t>(count.size()));
    for (uint16_t c : count) out.put(c);
    out.bytes({reinterpret_cast<const char*>(symbols.data()), symbols.size()});
    out.put(static_cast<uint32_t>(bits.size()));
    out.bytes(bits);
  }
};

Coded huffman_code(const std::vector<uint8_t>& symbols) {
  std::array<uint64_t, 256> counts{};
  for (uint8_t s : symbols) ++counts[s];
  Coded c;
  c.lengths = huffman_lengths(counts);
  const HuffmanEncoder enc(c.lengths);
  BitWriter w;
  for (uint8_t s : symbols) enc.put(w, s);
  c.bits = w.finish();
  return c;
}

void write_coded(Out& out, const Tensor& t, const std::vector<float>& cb) {
  const std::vector<uint8_t> every = codes_for(t, cb);
  std::vector<uint8_t> codes, gaps;
  int64_t prev = -1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint8_t c = every[static_cast<std::size_t>(i)];
    if (c == 0) continue;
    codes.push_back(c);
    int64_t gap = i - prev - 1;
    for (; gap >= kGapEscape; gap -= kGapEscape) gaps.push_back(kGapEscape);
    gaps.push_back(static_cast<uint8_t>(gap));
    prev = i;
  }
  const bool half = exact_in_half(cb.data() + 1, cb.size() - 1);
  out.put(static_cast<uint8_t>(half ? kFloat16 : kFloat32));
  out.put(static_cast<uint16_t>(cb.size() - 1));
  out.floats(cb.data() + 1, cb.size() - 1, half);
  // Dense layers are cheaper without gaps (their zeros cost less as a code than every weight's gap); take
  // whichever is smaller.
  const Coded all = huffman_code(every);
  Coded sparse_codes, sparse_gaps;
  bool use_gaps = !codes.empty();
  if (use_gaps) {
    sparse_codes = huffman_code(codes);
    sparse_gaps = huffman_code(gaps);
    use_gaps = sparse_codes.size() + sparse_gaps.size() < all.size();
  }
  out.put(static_cast<uint8_t>(use_gaps ? kGaps : kEveryPosition));
  out.put(static_cast<uint32_t>(codes.size()));
  if (use_gaps) {
    sparse_codes.write(out);
    sparse_gaps.write(out);
  } else {
    all.write(out);
  }
}

// A stored Huffman table + stream, decoded symbol by symbol; counts what it returns for the entropy bound.
struct Stream {
  HuffmanDecoder decoder;
  uint64_t bytes, table_bytes;  // the bit stream's; its Huffman table's and length's
  std::array<uint64_t, 256> counts{};
  uint8_t next() {
    const uint8_t s = decoder.next();
    ++counts[s];
    return s;
  }
};

Stream read_stream(ByteReader& r, const std::string& where) {
  const uint64_t start = r.offset();
  const auto max_len = r.read<uint8_t>("Huffman table");
  std::vector<uint16_t> count(max_len);
  uint64_t total = 0;
  for (auto& c : count) total += (c = r.read<uint16_t>("Huffman table"));
  if (total > 256) throw Error(where + ": Huffman table claims " + std::to_string(total) + " symbols (at most 256)");
  const std::string_view sym = r.take(total, "Huffman symbols");
  Stream s{HuffmanDecoder(count, std::vector<uint8_t>(sym.begin(), sym.end()), where), 0, 0};
  const auto n = r.read<uint32_t>("bit stream length");
  s.table_bytes = r.offset() - start;
  const std::string_view bits = r.take(n, "bit stream");
  s.decoder.start(bits);
  s.bytes = n;
  return s;
}

Tensor read_floats(ByteReader& r, const Shape& shape, bool half, const char* field) {
  const int64_t n = numel_of(shape);
  const std::string_view raw = r.take(static_cast<uint64_t>(n) * (half ? 2 : 4), field);
  Tensor t(shape);
  for (int64_t i = 0; i < n; ++i) {
    if (half) {
      uint16_t h;
      std::memcpy(&h, raw.data() + 2 * i, 2);
      t[i] = half_to_float(h);
    } else {
      std::memcpy(&t[i], raw.data() + 4 * i, 4);
    }
  }
  return t;
}

Tensor read_coded(ByteReader& r, const Shape& shape, const std::string& where, SqzTensorStats& st,
                  std::vector<float>& codebook) {
  const auto cb_kind = r.read<uint8_t>("codebook type");
  if (cb_kind != kFloat32 && cb_kind != kFloat16)
    throw Error(where + ": codebook type " + std::to_string(cb_kind) + " (0 = float32, 1 = float16)");
  const auto k = r.read<uint16_t>("codebook size");
  if (k > kMaxCodebook) throw Error(where + ": codebook of " + std::to_string(k) + " entries (at most 255)");
  const uint64_t cb_start = r.offset();
  const Tensor cb = read_floats(r, {k}, cb_kind == kFloat16, "codebook");
  st.codebook_bytes = r.offset() - cb_start;
  st.codebook_size = k;
  codebook.assign(1, 0.0f);
  codebook.insert(codebook.end(), cb.data(), cb.data() + k);

  const auto positions = r.read<uint8_t>("position mode");
  if (positions != kEveryPosition && positions != kGaps)
    throw Error(where + ": position mode " + std::to_string(positions) + " (0 = every position, 1 = gaps)");
  const int64_t numel = numel_of(shape);
  const auto n = r.read<uint32_t>("non-zero count");
  if (n > numel) throw Error(where + ": " + std::to_string(n) + " non-zero weights in a tensor of " + std::to_string(numel));
  Stream codes = read_stream(r, where + ": codes");
  st.code_bytes = codes.bytes;
  st.table_bytes = codes.table_bytes;
  st.gaps = positions == kGaps;
  // Every symbol costs at least one bit, so the streams' lengths bound what may be allocated below.
  const int64_t symbols = st.gaps ? n : numel;
  if (static_cast<uint64_t>(symbols) > codes.bytes * 8)
    throw Error(where + ": " + std::to_string(codes.bytes) + " bytes of codes cannot hold " + std::to_string(symbols) + " codes");

  Tensor w(shape);
  int64_t nonzero = 0;
  auto value = [&](uint8_t c) {
    if (c > k) throw Error(where + ": code " + std::to_string(c) + " past the codebook's " + std::to_string(k) + " entries");
    return c == 0 ? 0.0f : codebook[c];
  };
  if (!st.gaps) {
    for (int64_t i = 0; i < numel; ++i) w[i] = value(codes.next());
    nonzero = numel - static_cast<int64_t>(codes.counts[0]);
    if (nonzero != n) throw Error(where + ": " + std::to_string(nonzero) + " non-zero codes, the header says " + std::to_string(n));
  } else {
    Stream gaps = read_stream(r, where + ": gaps");
    st.gap_bytes = gaps.bytes;
    st.table_bytes += gaps.table_bytes;
    int64_t pos = -1;
    for (uint32_t j = 0; j < n; ++j) {
      int64_t next = pos + 1;
      for (uint8_t g = kGapEscape; g == kGapEscape;) {
        g = gaps.next();
        if ((next += g) >= numel) throw Error(where + ": weight position past the tensor's " + std::to_string(numel));
      }
      pos = next;
      const uint8_t c = codes.next();
      if (c == 0) throw Error(where + ": code 0 (a pruned weight) stored at position " + std::to_string(pos));
      w[pos] = value(c);
    }
    if (!gaps.decoder.at_end()) throw Error(where + ": gap stream longer than its weights");
    st.gap_entropy_bytes = entropy_bits(gaps.counts) / 8;
    st.gap_rans_bytes = rans_bytes(gaps.counts);
    nonzero = n;
  }
  if (!codes.decoder.at_end()) throw Error(where + ": code stream longer than its weights");
  st.code_entropy_bytes = entropy_bits(codes.counts) / 8;
  st.code_rans_bytes = rans_bytes(codes.counts);
  st.nonzero = nonzero;
  return w;
}
}  // namespace

WeightFile read_sqz(const std::string& path, SqzStats* stats) {
  return read_sqz_bytes(read_file(path, uint64_t{1} << 30), path, stats);
}

WeightFile read_sqz_bytes(std::string_view bytes, const std::string& name, SqzStats* stats) {
  if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0)
    throw Error(name + ": not a .sqz file (it does not start with \"SQZN\")");
  if (bytes.size() < 12 + kChecksumBytes) throw Error(name + ": truncated: " + std::to_string(bytes.size()) + " bytes");
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  const auto sum = sha256(body);
  if (std::memcmp(sum.data(), bytes.data() + body.size(), kChecksumBytes) != 0)
    throw Error(name + ": SHA-256 checksum does not match: the file is damaged or truncated");

  ByteReader r(body, name);
  r.take(4, "magic");
  const auto version = r.read<uint32_t>("version");
  if (version != kVersion)
    throw Error(name + ": .sqz version " + std::to_string(version) + " (this reader knows version 1)");
  SqzStats st;
  WeightFile wf;
  const auto n_meta = r.read<uint32_t>("metadata count");
  if (n_meta > kMaxMetadata) throw Error(name + ": " + std::to_string(n_meta) + " metadata entries (at most 256)");
  for (uint32_t i = 0; i < n_meta; ++i) {
    const std::string key(r.take(r.read<uint16_t>("metadata key length"), "metadata key"));
    const auto len = r.read<uint32_t>("metadata value length");
    if (len > kMaxValueBytes) throw Error(name + ": metadata '" + key + "' of " + std::to_string(len) + " bytes");
    wf.metadata[key] = std::string(r.take(len, "metadata value"));
  }
  const auto n_tensors = r.read<uint32_t>("tensor count");
  if (n_tensors > kMaxTensors) throw Error(name + ": " + std::to_string(n_tensors) + " tensors (at most 1024)");
  st.header_bytes = r.offset() + kChecksumBytes;
  int64_t total = 0;
  for (uint32_t i = 0; i < n_tensors; ++i) {
    const uint64_t start = r.offset();
    SqzTensorStats ts;
    const auto name_len = r.read<uint16_t>("tensor name length");
    if (name_len == 0) throw Error(name + ": tensor " + std::to_string(i) + " has an empty name");
    ts.name = std::string(r.take(name_len, "tensor name"));
    const std::string where = name + ": tensor " + ts.name;
    if (wf.tensors.count(ts.name)) throw Error(where + " appears twice");
    const auto ndim = r.read<uint8_t>("rank");
    if (ndim < 1 || ndim > 4) throw Error(where + ": rank " + std::to_string(ndim) + " (1 to 4 allowed)");
    int64_t numel = 1;
    for (uint8_t d = 0; d < ndim; ++d) {
      const auto dim = r.read<uint32_t>("dimension");
      if (dim == 0 || dim > kMaxTensorElements || (numel *= dim) > kMaxTensorElements)
        throw Error(where + ": shape too large or empty (at most 2^24 elements)");
      ts.shape.push_back(dim);
    }
    if ((total += numel) > kMaxTotalElements) throw Error(where + ": more than 2^26 elements in all");
    const auto kind = r.read<uint8_t>("tensor kind");
    Tensor t;
    if (kind == kFloat32 || kind == kFloat16) {
      const uint64_t at = r.offset();
      t = read_floats(r, ts.shape, kind == kFloat16, "tensor values");
      ts.value_bytes = r.offset() - at;
      for (int64_t j = 0; j < t.numel(); ++j) ts.nonzero += t[j] != 0.0f;
    } else if (kind == kCoded) {
      ts.coded = true;
      t = read_coded(r, ts.shape, where, ts, wf.codebooks[ts.name]);
    } else {
      throw Error(where + ": kind " + std::to_string(kind) + " (0 = float32, 1 = float16, 2 = coded)");
    }
    ts.header_bytes = r.offset() - start - ts.codebook_bytes - ts.code_bytes - ts.gap_bytes - ts.value_bytes;
    wf.tensors[ts.name] = std::move(t);
    st.tensors.push_back(std::move(ts));
  }
  if (r.remaining() != 0) throw Error(name + ": " + std::to_string(r.remaining()) + " unexpected bytes before the checksum");
  st.file_bytes = bytes.size();
  if (stats) *stats = std::move(st);
  return wf;
}

std::string write_sqz(const WeightFile& weights, SqzStats* stats) {
  Out out;
  out.bytes({kMagic, 4});
  out.put(kVersion);
  out.put(static_cast<uint32_t>(weights.metadata.size()));
  for (const auto& [k, v] : weights.metadata) {
    out.put(static_cast<uint16_t>(k.size()));
    out.bytes(k);
    out.put(static_cast<uint32_t>(v.size()));
    out.bytes(v);
  }
  out.put(static_cast<uint32_t>(weights.tensors.size()));
  for (const auto& [name, t] : weights.tensors) {
    if (name.empty() || name.size() > 0xffff || t.ndim() < 1 || t.ndim() > 4 || t.numel() > kMaxTensorElements)
      throw Error("tensor " + name + " of shape " + shape_str(t.shape()) + " cannot be stored in .sqz");
    out.put(static_cast<uint16_t>(name.size()));
    out.bytes(name);
    out.put(static_cast<uint8_t>(t.ndim()));
    for (int64_t d : t.shape()) out.put(static_cast<uint32_t>(d));
    const auto known = weights.codebooks.find(name);
    // Vectors (biases) stay floats: a codebook would cost as much as the values.
    const std::vector<float> cb =
        t.ndim() < 2 ? std::vector<float>{}
                     : codebook_for(t, known == weights.codebooks.end() ? nullptr : &known->second, kMaxCodebook);
    if (!cb.empty()) {
      out.put(static_cast<uint8_t>(kCoded));
      write_coded(out, t, cb);
    } else {
      const bool half = exact_in_half(t.data(), static_cast<std::size_t>(t.numel()));
      out.put(static_cast<uint8_t>(half ? kFloat16 : kFloat32));
      out.floats(t.data(), static_cast<std::size_t>(t.numel()), half);
    }
  }
  const auto sum = sha256(out.str());
  out.bytes({reinterpret_cast<const char*>(sum.data()), sum.size()});
  if (stats) read_sqz_bytes(out.str(), "written .sqz", stats);
  return std::move(out.str());
}

}  // namespace squeezenet
