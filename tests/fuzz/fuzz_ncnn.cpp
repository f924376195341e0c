// libFuzzer target: an ncnn model packed in one input as
//   uint32 little-endian n | n bytes of .param text | the .bin bytes (the rest)
// (a shorter n is cut to what is there), the layout make_corpus_caffe_ncnn.py writes. Throwing
// squeezenet::Error is the only acceptable way to refuse an input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "formats/readers.h"
#include "refusal.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t n;
  std::memcpy(&n, data, 4);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 4, size - 4);
  const std::string_view param = rest.substr(0, n), bin = rest.substr(param.size());
  try {
    const auto weights = squeezenet::read_ncnn_bytes(param, bin, "fuzz.param", "fuzz.bin");
    squeezenet::Model::from_weights(weights, "fuzz.param");
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
  }
  return 0;
}
