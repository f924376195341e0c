#include "compress/codebook.h"

#include <cstring>
#include <set>
#include <unordered_map>

#include "squeezenet/error.h"

namespace squeezenet {

namespace {
uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
}  // namespace

std::vector<float> codebook_for(const Tensor& t, const std::vector<float>* known, int max_entries) {
  if (known && !known->empty() && (*known)[0] == 0.0f && known->size() <= static_cast<std::size_t>(max_entries) + 1) {
    std::set<uint32_t> values;
    for (float v : *known) values.insert(bits_of(v));
    bool covers = true;
    for (int64_t i = 0; covers && i < t.numel(); ++i) covers = t[i] == 0.0f || values.count(bits_of(t[i]));
    if (covers) return *known;
  }
  std::set<float> distinct;
  for (int64_t i = 0; i < t.numel(); ++i)
    if (t[i] != 0.0f && distinct.insert(t[i]).second && distinct.size() > static_cast<std::size_t>(max_entries))
      return {};
  std::vector<float> cb{0.0f};
  cb.insert(cb.end(), distinct.begin(), distinct.end());
  return cb;
}

std::vector<uint8_t> codes_for(const Tensor& t, const std::vector<float>& codebook) {
  std::unordered_map<uint32_t, uint8_t> code_of;
  for (std::size_t i = codebook.size(); i-- > 1;) code_of[bits_of(codebook[i])] = static_cast<uint8_t>(i);
  std::vector<uint8_t> codes(static_cast<std::size_t>(t.numel()), 0);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (t[i] == 0.0f) continue;
    const auto it = code_of.find(bits_of(t[i]));
    if (it == code_of.end()) throw Error("value " + std::to_string(t[i]) + " is not in the tensor's codebook");
    codes[static_cast<std::size_t>(i)] = it->second;
  }
  return codes;
}

}  // namespace squeezenet
