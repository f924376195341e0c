// libFuzzer: the unpickler alone, with the globals a state_dict may use, must parse or refuse any bytes
// with an Error, within its memory caps.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "formats/pickle.h"
#include "refusal.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::set<std::string> globals{"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                             "torch.FloatStorage"};
  squeezenet::ByteReader in({reinterpret_cast<const char*>(data), size}, "fuzz.pkl");
  try {
    // Several pickles in a row, as in a legacy .pth.
    while (in.remaining() > 0) squeezenet::pickle::unpickle(in, globals, "a state_dict");
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
  }
  return 0;
}
