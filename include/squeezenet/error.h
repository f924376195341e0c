#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "squeezenet/export.h"

namespace squeezenet SQUEEZENET_API {

// How much of an input a message quotes: enough to recognise it, too little to flood a terminal or a log.
inline constexpr std::size_t kQuotedBytes = 64;
// The longest message an Error carries; longer ones are cut (a message is one line, never a dump).
inline constexpr std::size_t kMessageBytes = 2048;

// `bytes` made safe to print on one line: printable ASCII is kept, every other byte (control characters,
// terminal escape sequences, bytes of 0x80 and above) becomes \xNN, and input longer than `max_bytes` is cut
// there and says how long it was. A string that is already printable and short enough comes back unchanged,
// so a message built from quoted pieces can pass through again: the CLI, the C API, the Python module and
// the HTTP server all print what comes from outside through this one function.
std::string printable(std::string_view bytes, std::size_t max_bytes = kQuotedBytes);

// `bytes` as a message quotes input: printable(bytes) between single quotes.
std::string quote_input(std::string_view bytes);

// Every failure the library reports to a user is an Error whose message names the file and, where there
// is one, the tensor: the CLI prints it and exits non-zero, so it must be enough to act on alone. The
// message is made printable on construction, so whatever input a reader quoted, what() is one safe line.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(printable(message, kMessageBytes)) {}
  explicit Error(const char* message) : Error(std::string(message)) {}
};

}  // namespace squeezenet
