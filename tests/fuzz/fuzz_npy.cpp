// libFuzzer: the .npy reader must reject, never crash.
#include <cstddef>
#include <cstdint>

#include "formats/readers.h"
#include "refusal.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    squeezenet::read_npy_bytes({reinterpret_cast<const char*>(data), size}, "fuzz");
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
  }
  return 0;
}
