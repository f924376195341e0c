#pragma once
// What every fuzz target asks of a refusal: its message is one line of printable ASCII, whatever bytes the
// input held (a terminal or a log must never receive raw input from an error).
#include <cstdlib>
#include <string_view>

#include "squeezenet/error.h"

inline void check_refusal(const squeezenet::Error& e) {
  for (const char c : std::string_view(e.what()))
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) std::abort();
}
