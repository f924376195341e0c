#include "sqz_report.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace squeezenet::cli {

namespace {
struct Row {
  std::string layer;
  int64_t numel = 0, nonzero = 0;
  int bits = 0;  // code width a plain (not entropy-coded) encoding would need; 32/16 for float tensors
  bool gaps = false;
  uint64_t header = 0, codebook = 0, codes = 0, gaps_bytes = 0, biases = 0;
  double bound = 0;  // entropy of codes + gaps, in bytes
  uint64_t huffman = 0, rans = 0;  // codes + gaps with their tables, as stored and as rANS would store them
};
}  // namespace

void print_sqz_report(const SqzStats& stats) {
  std::vector<Row> rows;
  std::map<std::string, std::size_t> index;
  for (const SqzTensorStats& t : stats.tensors) {
    const std::size_t dot = t.name.rfind('.');
    const std::string layer = dot == std::string::npos ? t.name : t.name.substr(0, dot);
    if (!index.count(layer)) index[layer] = rows.size(), rows.push_back({layer});
    Row& r = rows[index[layer]];
    r.header += t.header_bytes;
    const bool is_bias = dot != std::string::npos && t.name.substr(dot) == ".bias";
    if (is_bias) {
      r.biases += t.value_bytes;
      continue;
    }
    r.numel = numel_of(t.shape);
    r.nonzero = t.nonzero;
    r.gaps = t.gaps;
    r.codebook += t.codebook_bytes;
    r.codes += t.code_bytes + t.value_bytes;
    r.gaps_bytes += t.gap_bytes;
    r.bits = t.coded ? static_cast<int>(std::ceil(std::log2(t.codebook_size + 1.0)))
                     : static_cast<int>(t.value_bytes * 8 / std::max<uint64_t>(1, numel_of(t.shape)));
    if (t.coded) {
      r.huffman += t.table_bytes + t.code_bytes + t.gap_bytes;
      r.rans += t.code_rans_bytes + t.gap_rans_bytes;
    }
    r.bound += t.coded ? t.code_entropy_bytes + t.gap_entropy_bytes : static_cast<double>(t.value_bytes);
  }
  std::printf("%-28s %8s %5s %5s %7s %9s %9s %9s %7s %9s %11s %9s %9s\n", "layer", "density", "bits", "gaps",
              "header", "codebook", "codes", "gaps", "biases", "total", "entropy", "huffman", "rANS");
  Row sum{"total"};
  for (const Row& r : rows) {
    const uint64_t total = r.header + r.codebook + r.codes + r.gaps_bytes + r.biases;
    std::printf("%-28s %7.1f%% %5d %5s %7llu %9llu %9llu %9llu %7llu %9llu %11.0f %9llu %9llu\n", r.layer.c_str(),
                r.numel ? 100.0 * static_cast<double>(r.nonzero) / static_cast<double>(r.numel) : 0.0, r.bits,
                r.gaps ? "yes" : "no", static_cast<unsigned long long>(r.header),
                static_cast<unsigned long long>(r.codebook), static_cast<unsigned long long>(r.codes),
                static_cast<unsigned long long>(r.gaps_bytes), static_cast<unsigned long long>(r.biases),
                static_cast<unsigned long long>(total), r.bound + static_cast<double>(r.header + r.codebook + r.biases),
                static_cast<unsigned long long>(r.huffman), static_cast<unsigned long long>(r.rans));
    sum.numel += r.numel, sum.nonzero += r.nonzero, sum.header += r.header, sum.codebook += r.codebook;
    sum.codes += r.codes, sum.gaps_bytes += r.gaps_bytes, sum.biases += r.biases;
    sum.huffman += r.huffman, sum.rans += r.rans;
    sum.bound += r.bound + static_cast<double>(r.header + r.codebook + r.biases);
  }
  std::printf("%-28s %7.1f%% %5s %5s %7llu %9llu %9llu %9llu %7llu %9llu %11.0f\n", "file header + checksum", 0.0, "",
              "", static_cast<unsigned long long>(stats.header_bytes), 0ull, 0ull, 0ull, 0ull,
              static_cast<unsigned long long>(stats.header_bytes), static_cast<double>(stats.header_bytes));
  std::printf("%-28s %7.1f%% %5s %5s %7llu %9llu %9llu %9llu %7llu %9llu %11.0f %9llu %9llu\n", "total",
              sum.numel ? 100.0 * static_cast<double>(sum.nonzero) / static_cast<double>(sum.numel) : 0.0, "", "",
              static_cast<unsigned long long>(sum.header + stats.header_bytes),
              static_cast<unsigned long long>(sum.codebook), static_cast<unsigned long long>(sum.codes),
              static_cast<unsigned long long>(sum.gaps_bytes), static_cast<unsigned long long>(sum.biases),
              static_cast<unsigned long long>(stats.file_bytes), sum.bound + static_cast<double>(stats.header_bytes),
              static_cast<unsigned long long>(sum.huffman), static_cast<unsigned long long>(sum.rans));
  std::printf("(entropy: the Shannon bound of the codes and gaps plus every other part as stored; huffman: the codes\n"
              " and gaps as stored, with their tables; rANS: what a static 12-bit rANS coder would store instead)\n");
}

}  // namespace squeezenet::cli
