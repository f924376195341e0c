#include "serve/kserve.h"

#include <openssl/evp.h>

#include "squeezenet/error.h"
#include "squeezenet/outputs.h"

namespace squeezenet::serve {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {
constexpr const char* kTensorInput = "input";
constexpr const char* kImageInput = "image";

// Row-major flattening of `data` (nested arrays allowed) into `out`, refusing more than `limit` numbers.
void flatten_numbers(const json& data, std::vector<float>& out, std::size_t limit) {
  if (data.is_array()) {
    for (const json& item : data) flatten_numbers(item, out, limit);
    return;
  }
  if (!data.is_number()) throw Error("inputs[0].data: FP32 data must be numbers");
  if (out.size() == limit) throw Error("inputs[0].data: more numbers than the shape holds");
  out.push_back(data.get<float>());
}

void flatten_strings(const json& data, std::vector<std::string>& out) {
  if (data.is_array()) {
    for (const json& item : data) flatten_strings(item, out);
    return;
  }
  if (!data.is_string()) throw Error("inputs[0].data: BYTES data must be base64 strings");
  out.push_back(data.get<std::string>());
}

std::string base64_decode(const std::string& text, std::size_t index) {
  const std::string where = "inputs[0].data[" + std::to_string(index) + "]";
  if (text.empty() || text.size() % 4 != 0) throw Error(where + ": not base64 (length not a multiple of 4)");
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw Error(where + ": not base64");
  // EVP_DecodeBlock counts the padding's zero bytes as data.
  const std::size_t pad = (text.end()[-1] == '=') + (text.end()[-2] == '=');
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

// How many images a BYTES shape holds. [N, k] holds N * k, so every dimension counts against `max_batch`, and the
// product is refused as soon as it passes it: before any string is decoded, and before it could overflow.
int64_t images_in(const std::vector<int64_t>& shape, int max_batch) {
  if (shape.empty()) throw Error("inputs[0].shape is empty: BYTES images are [N]");
  int64_t n = 1;
  for (const int64_t d : shape) {
    if (d < 1) throw Error("inputs[0].shape holds no image");
    if (d > max_batch || n * d > max_batch)
      throw Error("inputs[0].shape holds more images than the " + std::to_string(max_batch) +
                  " one request may carry (--max-batch)");
    n *= d;
  }
  return n;
}

std::vector<int64_t> read_shape(const json& input) {
  const json& shape = input.at("shape");
  if (!shape.is_array()) throw Error("inputs[0].shape must be an array of integers");
  std::vector<int64_t> dims;
  for (const json& d : shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) throw Error("inputs[0].shape must be non-negative integers");
    dims.push_back(d.get<int64_t>());
  }
  return dims;
}
}  // namespace

ordered_json model_metadata(const ServedModel& model) {
  const int s = model.input_size;
  return {{"name", model.name},
          {"versions", {"1"}},
          {"platform", "squeezenet.cpp"},
          {"inputs",
           {{{"name", kTensorInput}, {"datatype", "FP32"}, {"shape", {-1, 3, s, s}}},
            {{"name", kImageInput}, {"datatype", "BYTES"}, {"shape", {-1}}}}},
          {"outputs",
           {{{"name", "logits"}, {"datatype", "FP32"}, {"shape", {-1, model.classes}}},
            {{"name", "probabilities"}, {"datatype", "FP32"}, {"shape", {-1, model.classes}}},
            {{"name", "classes"}, {"datatype", "BYTES"}, {"shape", {-1, 5}}}}},
          {"parameters",
           {{"preset", preset_name(model.classifier->preset())},
            {"note", "give one input: 'input' (preprocessed NCHW) or 'image' (base64 JPEG/PNG files)"}}}};
}

InferRequest parse_infer_request(const std::string& body, const ServedModel& model, int max_batch) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    throw Error("request body is not JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception& e) {  // a number past double's range
    throw Error(std::string("request body is not usable JSON: ") + e.what());
  }
  try {
    InferRequest req;
    if (!doc.is_object()) throw Error("request body must be a JSON object");
    if (doc.contains("id")) req.id = doc["id"];
    const json& inputs = doc.at("inputs");
    if (!inputs.is_array() || inputs.size() != 1) throw Error("'inputs' must hold exactly one input");
    const json& input = inputs[0];
    const std::string name = input.at("name").get<std::string>();
    const std::string datatype = input.at("datatype").get<std::string>();
    const std::vector<int64_t> shape = read_shape(input);
    if (datatype == "FP32") {
      const int64_t s = model.input_size;
      if (name != kTensorInput) throw Error("FP32 input must be named '" + std::string(kTensorInput) + "'");
      if (shape.size() != 4 || shape[0] < 1 || shape[0] > max_batch || shape[1] != 3 || shape[2] != s || shape[3] != s)
        throw Error("inputs[0].shape must be [N, 3, " + std::to_string(s) + ", " + std::to_string(s) +
                    "], a batch of 1 to " + std::to_string(max_batch));
      const std::size_t count = static_cast<std::size_t>(numel_of(shape));
      std::vector<float> values;
      values.reserve(count);
      flatten_numbers(input.at("data"), values, count);
      if (values.size() != count)
        throw Error("inputs[0].data holds " + std::to_string(values.size()) + " numbers, the shape " +
                    std::to_string(count));
      req.tensor = Tensor(shape, values.data());
    } else if (datatype == "BYTES") {
      if (name != kImageInput) throw Error("BYTES input must be named '" + std::string(kImageInput) + "'");
      const int64_t count = images_in(shape, max_batch);
      std::vector<std::string> encoded;
      flatten_strings(input.at("data"), encoded);
      if (static_cast<int64_t>(encoded.size()) != count)
        throw Error("inputs[0].data holds " + std::to_string(encoded.size()) + " strings, the shape " +
                    std::to_string(count));
      for (std::size_t i = 0; i < encoded.size(); ++i) req.images.push_back(base64_decode(encoded[i], i));
    } else {
      throw Error("inputs[0].datatype '" + datatype.substr(0, 16) + "' is not supported: FP32 or BYTES");
    }
    if (doc.contains("outputs")) {
      for (const json& out : doc.at("outputs")) {
        InferRequest::Output o{out.at("name").get<std::string>()};
        if (o.name != "logits" && o.name != "probabilities" && o.name != "classes")
          throw Error("unknown output '" + o.name.substr(0, 32) + "': logits, probabilities or classes");
        if (out.contains("parameters") && out["parameters"].contains("classification")) {
          o.top = out["parameters"]["classification"].get<int>();
          if (o.top < 1 || o.top > model.classes)
            throw Error("'classification' must be 1 to " + std::to_string(model.classes));
        }
        req.outputs.push_back(o);
      }
    }
    if (req.outputs.empty()) req.outputs.push_back({req.images.empty() ? "logits" : "classes"});
    return req;
  } catch (const json::exception& e) {
    // Missing fields and wrong JSON types: nlohmann's message names the key or type.
    throw Error(std::string("bad inference request: ") + e.what());
  }
}

ordered_json infer_response(const InferRequest& request, const ServedModel& model, const Tensor& logits) {
  const int64_t n = logits.dim(0), k = logits.dim(1);
  ordered_json outputs = ordered_json::array();
  const Tensor probs = softmax(logits);
  for (const InferRequest::Output& o : request.outputs) {
    ordered_json out{{"name", o.name}};
    if (o.name == "classes") {
      // Triton's classification extension: "score:index:label", best first.
      ordered_json data = ordered_json::array();
      for (int64_t i = 0; i < n; ++i)
        for (const Prediction& p : top_k(probs.data() + i * k, static_cast<int>(k), o.top)) {
          char score[32];
          std::snprintf(score, sizeof score, "%f", p.score);
          data.push_back(std::string(score) + ":" + std::to_string(p.index) + ":" + class_name(p.index, model.classes));
        }
      out["datatype"] = "BYTES";
      out["shape"] = {n, std::min<int64_t>(o.top, k)};
      out["data"] = std::move(data);
    } else {
      const Tensor& t = o.name == "logits" ? logits : probs;
      out["datatype"] = "FP32";
      out["shape"] = {n, k};
      out["data"] = std::vector<float>(t.data(), t.data() + t.numel());
    }
    outputs.push_back(std::move(out));
  }
  ordered_json resp{{"model_name", model.name}, {"model_version", "1"}};
  if (!request.id.is_null()) resp["id"] = request.id;
  resp["outputs"] = std::move(outputs);
  return resp;
}

}  // namespace squeezenet::serve
