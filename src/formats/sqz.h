#pragma once
// The .sqz format (docs/sqz-format.md): weight-shared, pruned tensors as canonical-Huffman-coded codebook
// indices and position gaps, dense tensors as float32/float16, a SHA-256 over the whole file.
#include <string>
#include <string_view>
#include <vector>

#include "squeezenet/weights.h"

namespace squeezenet {

// Where one tensor's bytes go, and what the symbols' entropy says they could at best cost.
struct SqzTensorStats {
  std::string name;
  Shape shape;
  bool coded = false;          // codebook + codes; otherwise stored as floats
  bool gaps = false;           // coded with position gaps; otherwise one code per position
  int codebook_size = 0;       // non-zero entries
  int64_t nonzero = 0;
  uint64_t header_bytes = 0;   // name, shape, kind, Huffman tables, lengths
  uint64_t table_bytes = 0;    // of which Huffman tables and stream lengths
  uint64_t codebook_bytes = 0;
  uint64_t code_bytes = 0;
  uint64_t gap_bytes = 0;
  uint64_t value_bytes = 0;    // float tensors (biases)
  double code_entropy_bytes = 0, gap_entropy_bytes = 0;
  uint64_t code_rans_bytes = 0, gap_rans_bytes = 0;  // what rANS would take instead, tables included
};

struct SqzStats {
  uint64_t file_bytes = 0;
  uint64_t header_bytes = 0;  // magic, version, metadata, tensor count, checksum
  std::vector<SqzTensorStats> tensors;
};

// `stats`, when given, receives the layout of what was read or written.
WeightFile read_sqz(const std::string& path, SqzStats* stats = nullptr);
WeightFile read_sqz_bytes(std::string_view bytes, const std::string& name, SqzStats* stats = nullptr);
std::string write_sqz(const WeightFile& weights, SqzStats* stats = nullptr);

}  // namespace squeezenet
