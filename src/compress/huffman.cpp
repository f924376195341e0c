#include "compress/huffman.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include "squeezenet/error.h"

namespace squeezenet {

namespace {
// Plain Huffman lengths by merging the two lightest subtrees; depth of each leaf is its length.
std::array<uint8_t, 256> unlimited_lengths(const std::array<uint64_t, 256>& counts) {
  struct Node {
    uint64_t weight;
    int left, right;  // -1 for leaves
  };
  std::vector<Node> nodes;
  using Item = std::pair<uint64_t, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  std::array<int, 256> leaf_of{};
  for (int s = 0; s < 256; ++s) {
    leaf_of[s] = -1;
    if (counts[s] == 0) continue;
    leaf_of[s] = static_cast<int>(nodes.size());
    nodes.push_back({counts[s], -1, -1});
    heap.push({counts[s], leaf_of[s]});
  }
  std::array<uint8_t, 256> lengths{};
  if (nodes.empty()) return lengths;
  if (nodes.size() == 1) {
    for (int s = 0; s < 256; ++s)
      if (leaf_of[s] >= 0) lengths[s] = 1;
    return lengths;
  }
  while (heap.size() > 1) {
    const auto [wa, a] = heap.top();
    heap.pop();
    const auto [wb, b] = heap.top();
    heap.pop();
    nodes.push_back({wa + wb, a, b});
    heap.push({wa + wb, static_cast<int>(nodes.size()) - 1});
  }
  std::vector<int> depth(nodes.size(), 0);
  for (int i = static_cast<int>(nodes.size()) - 1; i >= 0; --i)
    if (nodes[i].left >= 0) depth[nodes[i].left] = depth[nodes[i].right] = depth[i] + 1;
  for (int s = 0; s < 256; ++s)
    if (leaf_of[s] >= 0) lengths[s] = static_cast<uint8_t>(std::min(depth[leaf_of[s]], 255));
  return lengths;
}
}  // namespace

std::array<uint8_t, 256> huffman_lengths(const std::array<uint64_t, 256>& counts) {
  // Flattening the counts until the tree fits is zlib's old trick: it costs a fraction of a percent on the rare
  // skewed layers that need it and keeps the code simple.
  std::array<uint64_t, 256> c = counts;
  for (;;) {
    const auto lengths = unlimited_lengths(c);
    if (*std::max_element(lengths.begin(), lengths.end()) <= kHuffmanMaxBits) return lengths;
    for (auto& v : c)
      if (v) v = v / 2 + 1;
  }
}

double entropy_bits(const std::array<uint64_t, 256>& counts) {
  double total = 0, bits = 0;
  for (uint64_t c : counts) total += static_cast<double>(c);
  for (uint64_t c : counts)
    if (c) bits -= static_cast<double>(c) * std::log2(static_cast<double>(c) / total);
  return bits;
}

void BitWriter::put(uint32_t code, int bits) {
  acc_ = (acc_ << bits) | code;
  used_ += bits;
  while (used_ >= 8) {
    used_ -= 8;
    out_.push_back(static_cast<char>((acc_ >> used_) & 0xff));
  }
}

std::string BitWriter::finish() {
  if (used_ > 0) out_.push_back(static_cast<char>((acc_ << (8 - used_)) & 0xff));
  used_ = 0;
  acc_ = 0;
  return std::move(out_);
}

void canonical_table(const std::array<uint8_t, 256>& lengths, std::vector<uint16_t>& count_per_length,
                     std::vector<uint8_t>& symbols) {
  const int max_len = *std::max_element(lengths.begin(), lengths.end());
  count_per_length.assign(static_cast<std::size_t>(max_len), 0);
  symbols.clear();
  for (int len = 1; len <= max_len; ++len)
    for (int s = 0; s < 256; ++s)
      if (lengths[s] == len) {
        ++count_per_length[len - 1];
        symbols.push_back(static_cast<uint8_t>(s));
      }
}

HuffmanEncoder::HuffmanEncoder(const std::array<uint8_t, 256>& lengths) : len_(lengths) {
  std::vector<uint16_t> count;
  std::vector<uint8_t> symbols;
  canonical_table(lengths, count, symbols);
  uint32_t code = 0;
  std::size_t k = 0;
  for (std::size_t len = 1; len <= count.size(); ++len) {
    for (uint16_t i = 0; i < count[len - 1]; ++i) code_[symbols[k++]] = code++;
    code <<= 1;
  }
}

HuffmanDecoder::HuffmanDecoder(const std::vector<uint16_t>& count_per_length, const std::vector<uint8_t>& symbols,
                               const std::string& what)
    : count_(count_per_length), symbols_(symbols), what_(what) {
  if (count_.empty() || count_.size() > kHuffmanMaxBits)
    throw Error(what_ + ": Huffman code lengths run to " + std::to_string(count_.size()) + " bits (1 to " +
                std::to_string(kHuffmanMaxBits) + " allowed)");
  uint64_t total = 0, kraft = 0;  // Kraft sum in units of 2^-max
  for (std::size_t len = 1; len <= count_.size(); ++len) {
    total += count_[len - 1];
    kraft += uint64_t{count_[len - 1]} << (count_.size() - len);
  }
  if (total != symbols_.size() || total == 0)
    throw Error(what_ + ": Huffman table lists " + std::to_string(symbols_.size()) + " symbols for " +
                std::to_string(total) + " codes");
  if (kraft > (uint64_t{1} << count_.size())) throw Error(what_ + ": Huffman code lengths are not a prefix code");
  std::vector<bool> seen(256, false);
  for (uint8_t s : symbols_) {
    if (seen[s]) throw Error(what_ + ": Huffman table lists symbol " + std::to_string(s) + " twice");
    seen[s] = true;
  }
  // Each code of length len <= kHuffmanTableBits owns the 2^(kHuffmanTableBits - len) indices it prefixes.
  table_.assign(std::size_t{1} << kHuffmanTableBits, Entry{});
  uint32_t code = 0;
  std::size_t k = 0;
  for (int len = 1; len <= static_cast<int>(count_.size()) && len <= kHuffmanTableBits; ++len) {
    for (uint16_t i = 0; i < count_[len - 1]; ++i, ++code, ++k) {
      const int free = kHuffmanTableBits - len;
      std::fill_n(table_.begin() + (std::size_t{code} << free), std::size_t{1} << free,
                  Entry{symbols_[k], static_cast<uint8_t>(len)});
    }
    code <<= 1;
  }
}

uint32_t HuffmanDecoder::peek() const {
  const uint64_t byte = pos_ >> 3;
  uint64_t window = 0;  // big-endian bytes from `byte` on
  for (uint64_t i = 0; i < 5; ++i)
    window = (window << 8) | (byte + i < stream_.size() ? static_cast<uint8_t>(stream_[byte + i]) : 0u);
  return static_cast<uint32_t>(window >> (8 - (pos_ & 7)));
}

uint8_t HuffmanDecoder::next_slowly() {
  // Canonical decoding: at each length, codes of that length are the `count` values from `first`.
  uint32_t code = 0, first = 0;
  std::size_t index = 0;
  for (std::size_t len = 1; len <= count_.size(); ++len) {
    if (pos_ >= stream_.size() * 8) throw Error(what_ + ": truncated bit stream");
    const auto byte = static_cast<uint8_t>(stream_[pos_ >> 3]);
    code = (code << 1) | ((byte >> (7 - (pos_ & 7))) & 1u);
    ++pos_;
    const uint32_t n = count_[len - 1];
    if (code - first < n) return symbols_[index + (code - first)];
    index += n;
    first = (first + n) << 1;
  }
  throw Error(what_ + ": bit stream holds a code the Huffman table does not have");
}

bool HuffmanDecoder::at_end() const {
  if (stream_.size() * 8 - pos_ >= 8) return false;
  const auto last = static_cast<uint8_t>(stream_.empty() ? 0 : stream_.back());
  return (pos_ % 8 == 0) || (last & ((1u << (8 - pos_ % 8)) - 1)) == 0;
}

}  // namespace squeezenet
