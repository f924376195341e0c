// The server's pure parts: the cgroup quota, metric rendering, request labels, model specs, KServe parsing.
#include <gtest/gtest.h>

#include "serve/cpu_quota.h"
#include "serve/kserve.h"
#include "serve/metrics.h"
#include "serve/server.h"
#include "squeezenet/error.h"

namespace squeezenet::serve {

TEST(ServeCpuQuota, ReadsCgroupV2CpuMax) {
  EXPECT_EQ(cpus_in_cpu_max("max 100000\n"), 0);
  EXPECT_EQ(cpus_in_cpu_max("200000 100000\n"), 2);
  EXPECT_EQ(cpus_in_cpu_max("150000 100000"), 2);  // 1.5 CPUs: two threads, each throttled part of the time
  EXPECT_EQ(cpus_in_cpu_max("50000 100000"), 1);
  EXPECT_EQ(cpus_in_cpu_max("garbage"), 0);
  EXPECT_EQ(cpus_in_cpu_max("-1 100000"), 0);
  EXPECT_GE(usable_cpus(), 1);
}

TEST(ServeMetrics, HistogramBucketsAreCumulative) {
  Histogram h({1, 2});
  h.observe(0.5);
  h.observe(1.5);
  h.observe(7);
  std::string out;
  h.render(out, "x", "endpoint=\"/a\"");
  EXPECT_NE(out.find("x_bucket{endpoint=\"/a\",le=\"1\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_bucket{endpoint=\"/a\",le=\"2\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_bucket{endpoint=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_sum{endpoint=\"/a\"} 9\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_count{endpoint=\"/a\"} 3\n"), std::string::npos) << out;
}

TEST(ServeMetrics, EndpointLabelsStayFew) {
  EXPECT_EQ(endpoint_of("/v1/classify"), "/v1/classify");
  EXPECT_EQ(endpoint_of("/v2/models/sq11"), "/v2/models/{name}");
  EXPECT_EQ(endpoint_of("/v2/models/abc/infer"), "/v2/models/{name}/infer");
  EXPECT_EQ(endpoint_of("/v2/models/abc/ready"), "/v2/models/{name}/ready");
  EXPECT_EQ(endpoint_of("/v2/models/abc/what"), "other");
  EXPECT_EQ(endpoint_of("/../../etc/passwd"), "other");
}

TEST(ServeModelSpec, NameAndPath) {
  EXPECT_EQ(parse_model_spec("a=dir/w.pth").name, "a");
  EXPECT_EQ(parse_model_spec("a=dir/w.pth").weights, "dir/w.pth");
  EXPECT_EQ(parse_model_spec("dir/x=y/w.pth").weights, "dir/x=y/w.pth");  // '=' inside the path
  EXPECT_EQ(parse_model_spec("dir/w.safetensors").name, "w");
  EXPECT_THROW(parse_model_spec("a b=w.pth"), Error);
}

TEST(ServeKserve, RejectsBadRequestsWithAMessage) {
  ServedModel model;
  model.name = "m";
  const auto message = [&](const std::string& body) {
    try {
      parse_infer_request(body, model, 4);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("{\"inputs\": [{"), "request body is not JSON (byte 14)");  // where the parser stopped, 1-based
  EXPECT_NE(message("{}").find("bad inference request"), std::string::npos);
  const std::string fp32 = R"({"inputs": [{"name": "input", "datatype": "FP32", "shape": )";
  EXPECT_NE(message(fp32 + R"([8, 3, 224, 224], "data": []}]})").find("a batch of 1 to 4"), std::string::npos);
  EXPECT_NE(message(fp32 + R"([1, 3, 224, 224], "data": [1, 2]}]})").find("holds 2 numbers"), std::string::npos);
  EXPECT_NE(message(fp32 + R"([1, 3, 224, 224], "data": ["x"]}]})").find("must be numbers"), std::string::npos);
  const std::string bytes = R"({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": )";
  EXPECT_NE(message(bytes + R"(["not base64!"]}]})").find("not base64"), std::string::npos);
  EXPECT_NE(message(bytes + R"([7]}]})").find("base64 strings"), std::string::npos);
  EXPECT_NE(message(R"({"inputs": [{"name": "x", "datatype": "INT8", "shape": [1], "data": [1]}]})")
                .find("not supported"),
            std::string::npos);
}

// [N, k] holds N * k images: the bound is on the product, checked from the shape before any string is looked at
// (the data below is not even base64).
TEST(ServeKserve, BoundsTheImagesOfABytesShape) {
  ServedModel model;
  const auto message = [&](const std::string& shape) {
    try {
      parse_infer_request(R"({"inputs": [{"name": "image", "datatype": "BYTES", "shape": )" + shape +
                              R"(, "data": ["?"]}]})",
                          model, 4);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string refused = "inputs[0].shape holds more images than the 4 one request may carry (--max-batch)";
  EXPECT_EQ(message("[2, 3]"), refused);
  EXPECT_EQ(message("[1, 5]"), refused);
  EXPECT_EQ(message("[1, 4611686018427387904, 4]"), refused);  // a product past int64
  EXPECT_EQ(message("[2, 0]"), "inputs[0].shape holds no image");
  EXPECT_EQ(message("[]"), "inputs[0].shape is empty: BYTES images are [N]");
  // Within the bound the shape passes, and the strings are what is checked next.
  EXPECT_NE(message("[2, 2]").find("holds 1 strings, the shape 4"), std::string::npos);
  EXPECT_NE(message("[1, 1]").find("not base64"), std::string::npos);
}

TEST(ServeKserve, DecodesBase64Images) {
  ServedModel model;
  const InferRequest r = parse_infer_request(
      R"({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2], "data": ["aGk=", "aGVsbG8="]}]})", model, 4);
  ASSERT_EQ(r.images.size(), 2u);
  EXPECT_EQ(r.images[0], "hi");
  EXPECT_EQ(r.images[1], "hello");
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].name, "classes");
}

}  // namespace squeezenet::serve
