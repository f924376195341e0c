#pragma once
// Canonical Huffman coding of byte symbols (DEFLATE's code assignment): a code is described by its length per
// symbol alone, so a file stores lengths and never the codes themselves.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace squeezenet {

constexpr int kHuffmanMaxBits = 20;  // keeps the decoder's per-length tables small and a code inside 32 bits

// Code length per symbol (0 = symbol absent) for the given counts, no code longer than kHuffmanMaxBits. A lone
// symbol gets length 1, so that every stored symbol costs at least one bit and the stream length says the count.
std::array<uint8_t, 256> huffman_lengths(const std::array<uint64_t, 256>& counts);

// Shannon bound in bits of a symbol stream with these counts: what no per-symbol code can beat.
double entropy_bits(const std::array<uint64_t, 256>& counts);

// Appends codes MSB first; the last byte is padded with zero bits.
class BitWriter {
 public:
  void put(uint32_t code, int bits);
  std::string finish();

 private:
  std::string out_;
  uint64_t acc_ = 0;
  int used_ = 0;
};

class HuffmanEncoder {
 public:
  explicit HuffmanEncoder(const std::array<uint8_t, 256>& lengths);
  void put(BitWriter& w, uint8_t symbol) const { w.put(code_[symbol], len_[symbol]); }
  uint64_t bits(uint8_t symbol) const { return len_[symbol]; }

 private:
  std::array<uint32_t, 256> code_{};
  std::array<uint8_t, 256> len_{};
};

// Decodes a canonical code from (count of codes per length, symbols in code order). Construction checks that
// the table is a prefix code (Kraft), and every read checks the stream's end: `what` names the input in errors.
// Codes of up to kHuffmanTableBits bits are decoded by one table look-up; longer ones, rare by construction,
// bit by bit from there.
class HuffmanDecoder {
 public:
  static constexpr int kHuffmanTableBits = 10;
  HuffmanDecoder(const std::vector<uint16_t>& count_per_length, const std::vector<uint8_t>& symbols,
                 const std::string& what);
  // Reads symbols from `stream` one at a time.
  void start(std::string_view stream) { stream_ = stream, pos_ = 0; }
  uint8_t next() {
    const Entry e = table_[peek() >> (32 - kHuffmanTableBits)];
    if (e.length == 0 || pos_ + e.length > stream_.size() * 8) return next_slowly();
    pos_ += e.length;
    return e.symbol;
  }
  // True when only zero padding bits of the last byte are left.
  bool at_end() const;

 private:
  struct Entry {
    uint8_t symbol = 0, length = 0;  // length 0: the code is longer than the table's index, or no code
  };
  uint32_t peek() const;  // the next 32 bits of the stream, zeros past its end
  uint8_t next_slowly();

  std::vector<uint16_t> count_;
  std::vector<uint8_t> symbols_;
  std::vector<Entry> table_;
  std::string what_;
  std::string_view stream_;
  uint64_t pos_ = 0;  // in bits
};

// The (count per length, symbols in code order) description of a set of lengths, as files store it.
void canonical_table(const std::array<uint8_t, 256>& lengths, std::vector<uint16_t>& count_per_length,
                     std::vector<uint8_t>& symbols);

}  // namespace squeezenet
