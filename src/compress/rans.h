#pragma once
// What rANS would cost instead of Huffman: measured, not shipped. Huffman spends a whole number of bits per
// symbol (at least one); rANS reaches the entropy of its quantised frequencies, but needs a larger table.
#include <array>
#include <cstdint>

namespace squeezenet {

constexpr int kRansFrequencyBits = 12;  // the usual choice of 32-bit-state byte-wise rANS coders

// Bytes a static rANS stream of symbols with these counts would take: frequencies quantised to sum to
// 2^kRansFrequencyBits (each present symbol at least 1), the code length under them, a 4-byte final state, and a
// table of one byte per present symbol plus two per frequency.
uint64_t rans_bytes(const std::array<uint64_t, 256>& counts);

}  // namespace squeezenet
