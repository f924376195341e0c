#include <algorithm>
#include <cstdio>
#include <cstring>

#include "squeezenet/error.h"

namespace squeezenet {

std::string printable(std::string_view bytes, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(bytes.size(), max_bytes) + 24);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    char piece[5] = {static_cast<char>(c), 0};
    if (c < 0x20 || c >= 0x7f) std::snprintf(piece, sizeof piece, "\\x%02X", c);
    // The limit is on what is printed, so that escaping cannot make a message four times longer.
    if (out.size() + std::strlen(piece) > max_bytes) return out + "... (" + std::to_string(bytes.size()) + " bytes)";
    out += piece;
  }
  return out;
}

std::string quote_input(std::string_view bytes) { return "'" + printable(bytes) + "'"; }

}  // namespace squeezenet
