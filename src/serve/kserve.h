#pragma once
// The KServe v2 / Open Inference Protocol's JSON: model metadata, and inference requests turned into jobs and
// their results into the response. Everything read from the request is checked here before use.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "serve/batcher.h"

namespace squeezenet::serve {

nlohmann::ordered_json model_metadata(const ServedModel& model);

// A request taken apart: either one FP32 tensor or encoded images (BYTES, base64), and the outputs wanted.
struct InferRequest {
  nlohmann::json id;  // echoed when present
  Tensor tensor;      // FP32 input, [N, 3, S, S]
  std::vector<std::string> images;
  struct Output {
    std::string name;  // logits | probabilities | classes
    int top = 5;       // classes: how many per image ("classification" parameter, as Triton's)
  };
  std::vector<Output> outputs;
};

// Throws Error with the message for the 400.
InferRequest parse_infer_request(const std::string& body, const ServedModel& model, int max_batch);

// `logits` [N, classes] -> the response body.
nlohmann::ordered_json infer_response(const InferRequest& request, const ServedModel& model, const Tensor& logits);

}  // namespace squeezenet::serve
