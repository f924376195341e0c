// libFuzzer target: arbitrary bytes as a .caffemodel. Throwing squeezenet::Error is the only acceptable way
// to refuse an input; a crash, a sanitizer report or another exception is a bug. Weights that parse are
// also handed to Model::from_weights, the check every loaded file goes through next.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/readers.h"
#include "refusal.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto weights = squeezenet::read_caffemodel_bytes(std::string_view(reinterpret_cast<const char*>(data), size),
                                                           "fuzz.caffemodel");
    squeezenet::Model::from_weights(weights, "fuzz.caffemodel");
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
  }
  return 0;
}
