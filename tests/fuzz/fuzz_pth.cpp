// libFuzzer: any bytes as a .pth (zip or legacy) must load or be refused with an Error, never crash; what
// loads must survive a write and a second read unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "formats/readers.h"
#include "refusal.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  squeezenet::WeightFile first;
  try {
    first = squeezenet::read_pth_bytes({reinterpret_cast<const char*>(data), size}, "fuzz.pth");
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
    return 0;
  }
  // Reading drops a "module." prefix, so only other names come back the same.
  for (const auto& [name, t] : first.tensors)
    if (name.starts_with("module.")) return 0;
  const squeezenet::WeightFile second = squeezenet::read_pth_bytes(squeezenet::write_pth(first), "rewritten.pth");
  if (second.tensors.size() != first.tensors.size()) std::abort();
  for (const auto& [name, t] : first.tensors) {
    const squeezenet::Tensor& u = second.tensors.at(name);
    if (u.shape() != t.shape()) std::abort();
    if (t.numel() > 0 && std::memcmp(u.data(), t.data(), static_cast<std::size_t>(t.numel()) * sizeof(float)) != 0)
      std::abort();
  }
  return 0;
}
