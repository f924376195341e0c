// libFuzzer: the safetensors reader and the model validation behind it must reject, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/readers.h"
#include "refusal.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto wf = squeezenet::read_safetensors_bytes({reinterpret_cast<const char*>(data), size}, "fuzz");
    squeezenet::Model::from_weights(wf, "fuzz");
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
  }
  return 0;
}
