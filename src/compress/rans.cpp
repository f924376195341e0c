#include "compress/rans.h"

#include <algorithm>
#include <cmath>

namespace squeezenet {

uint64_t rans_bytes(const std::array<uint64_t, 256>& counts) {
  constexpr int64_t kTotal = int64_t{1} << kRansFrequencyBits;
  uint64_t n = 0, present = 0;
  for (uint64_t c : counts) n += c, present += c > 0;
  if (n == 0) return 0;
  std::array<int64_t, 256> q{};
  int64_t sum = 0;
  for (int s = 0; s < 256; ++s) {
    if (!counts[s]) continue;
    q[s] = std::max<int64_t>(1, std::llround(static_cast<double>(counts[s]) * kTotal / static_cast<double>(n)));
    sum += q[s];
  }
  // Rounding leaves the sum off by a little; the largest frequencies absorb it, where it costs the least. One
  // of them is always above 1 while the sum is too large, since 256 symbols need only 256 of the 4096.
  while (sum != kTotal) {
    int largest = 0;
    for (int s = 1; s < 256; ++s)
      if (q[s] > q[largest]) largest = s;
    const int64_t step = sum > kTotal ? -std::min<int64_t>(sum - kTotal, q[largest] - 1) : kTotal - sum;
    q[largest] += step;
    sum += step;
  }
  double bits = 0;
  for (int s = 0; s < 256; ++s)
    if (counts[s]) bits -= static_cast<double>(counts[s]) * std::log2(static_cast<double>(q[s]) / kTotal);
  return static_cast<uint64_t>(std::ceil(bits / 8)) + 4 + 1 + 3 * present;
}

}  // namespace squeezenet
