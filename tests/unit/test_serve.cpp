// The server's pure parts: the cgroup quota, metric rendering, request labels, model specs, KServe parsing.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "serve/cpu_quota.h"
#include "serve/kserve.h"
#include "serve/metrics.h"
#include "serve/server.h"
#include "squeezenet/error.h"
#include "squeezenet/visualize.h"
#include "util/rng.h"

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

// The batcher as the server drives it: several threads submit at once, batches are shared out among the compute
// pool's single-threaded lanes, a lone image runs on the whole pool. Every answer must be its own image's, as one
// engine alone computes it, and a bad image fails alone. The TSan build runs this (scripts/sanitize.sh thread).
TEST(ServeBatcher, ConcurrentRequestsAreAnsweredAsOneEngineAlone) {
  constexpr int kPool = 2, kClients = 4, kEach = 3;
  const Model net(ModelConfig{Arch::squeezenet1_1, 10, 0.5f}, 5);
  ServedModel model;
  model.classifier = std::make_unique<Classifier>(net, Preset::torchvision, EngineOptions{.threads = kPool});
  model.classes = 10;
  for (int i = 0; i < kPool; ++i) model.lanes.emplace_back(model.classifier->model(), EngineOptions{.threads = 1});

  Rng rng(14);
  std::vector<std::string> images;
  std::vector<Tensor> want;
  Engine alone(model.classifier->model(), 1);
  for (int i = 0; i < kClients * kEach; ++i) {
    Image im{24 + i, 20 + 2 * i, {}};
    im.rgb.resize(static_cast<std::size_t>(im.width) * im.height * 3);
    for (auto& p : im.rgb) p = static_cast<uint8_t>(rng.next());
    images.push_back(encode_png(im));
    want.push_back(alone.forward(preprocess(im, Preset::torchvision)));
  }
  images[5] = "not an image";

  Metrics metrics;
  Batcher batcher(BatcherOptions{.max_batch = 8, .max_delay_ms = 200, .threads = kPool, .limits = {}}, metrics);
  std::vector<JobResult> got(images.size());
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      for (int k = 0; k < kEach; ++k) {
        const std::size_t i = static_cast<std::size_t>(c * kEach + k);
        auto job = std::make_unique<Job>();
        job->model = &model;
        job->bytes = images[i];
        job->name = "image " + std::to_string(i);
        got[i] = batcher.submit(std::move(job))->get();
      }
    });
  for (auto& t : clients) t.join();
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (i == 5) {
      EXPECT_EQ(got[i].error_status, 400);
      EXPECT_NE(got[i].error.find("image 5"), std::string::npos) << got[i].error;
      continue;
    }
    ASSERT_EQ(got[i].error, "") << i;
    ASSERT_EQ(got[i].logits.numel(), 10) << i;
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(got[i].logits.data()[k], want[i].data()[k], 1e-4f) << i;
  }
  // The clients' requests met in batches, shared among the lanes (the first waits up to 200 ms for others).
  EXPECT_TRUE(std::any_of(got.begin(), got.end(), [](const JobResult& r) { return r.batch_size > 1; }));
}

}  // namespace squeezenet::serve
