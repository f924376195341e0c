// libFuzzer target for the KServe v2 inference request: arbitrary bytes as the JSON body. A request is either
// refused with squeezenet::Error (a 400 whose message must be printable) or turned into a batch, which then
// gets a response built from made-up logits, as the server would answer it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "refusal.h"
#include "serve/kserve.h"
#include "squeezenet/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static squeezenet::serve::ServedModel model = [] {
    squeezenet::serve::ServedModel m;
    m.name = "m";
    m.input_size = 4;  // FP32 inputs of [N, 3, 4, 4]: small enough for the fuzzer to build whole ones
    m.classes = 10;
    return m;
  }();
  constexpr int kMaxBatch = 4;
  try {
    const auto request =
        squeezenet::serve::parse_infer_request(std::string(reinterpret_cast<const char*>(data), size), model, kMaxBatch);
    const int64_t n = request.images.empty() ? (request.tensor.ndim() == 4 ? request.tensor.dim(0) : 0)
                                             : static_cast<int64_t>(request.images.size());
    if (n < 1) __builtin_trap();  // a request that parses holds at least one input
    squeezenet::Tensor logits({n, model.classes});
    for (int64_t i = 0; i < logits.numel(); ++i) logits.data()[i] = static_cast<float>(i % 7) - 3;
    squeezenet::serve::infer_response(request, model, logits).dump();
  } catch (const squeezenet::Error& e) {
    check_refusal(e);
  }
  return 0;
}
