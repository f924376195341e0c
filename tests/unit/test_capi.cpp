// The C API against the C++ library it wraps: the same logits, the same classes, the same error text.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "squeezenet/classifier.h"
#include "squeezenet/error.h"
#include "squeezenet/squeezenet.h"
#include "test_env.h"

namespace squeezenet {
namespace {

const std::string kWeights = "/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param";
const std::string kImage = "/imagenet-sample-1000/n02099601_golden_retriever.JPEG";

struct CClassifier {
  squeezenet_classifier* handle = nullptr;
  explicit CClassifier(const std::string& path, int threads = 0) {
    EXPECT_EQ(squeezenet_classifier_load(path.c_str(), nullptr, threads, &handle), SQUEEZENET_OK)
        << squeezenet_last_error();
  }
  ~CClassifier() { squeezenet_classifier_free(handle); }
};

TEST(CApi, LogitsAreTheEngines) {
  const std::string weights = test::data_dir() + kWeights;
  Classifier cpp = Classifier::load(weights);
  CClassifier c(weights);
  // A real image, preprocessed, batched with a second one to cover n > 1.
  const Tensor one = preprocess(decode_image(test::data_dir() + kImage), cpp.preset());
  Tensor batch({2, 3, one.dim(2), one.dim(3)});
  for (int64_t i = 0; i < one.numel(); ++i) batch[i] = one[i], batch[one.numel() + i] = 0.5f * one[i];
  const Tensor expected = cpp.logits(batch);
  std::vector<float> got(static_cast<std::size_t>(expected.numel()));
  ASSERT_EQ(squeezenet_logits(c.handle, batch.data(), 2, static_cast<int>(one.dim(2)), static_cast<int>(one.dim(3)),
                              got.data(), got.size()),
            SQUEEZENET_OK)
      << squeezenet_last_error();
  for (int64_t i = 0; i < expected.numel(); ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], expected[i]) << i;
}

TEST(CApi, ClassifyAndCamAreTheClassifiers) {
  const std::string weights = test::data_dir() + kWeights;
  Classifier cpp = Classifier::load(weights);
  CClassifier c(weights);
  const Image image = decode_image(test::data_dir() + kImage);
  squeezenet_image* c_image = nullptr;
  ASSERT_EQ(squeezenet_image_decode_file((test::data_dir() + kImage).c_str(), &c_image), SQUEEZENET_OK);
  const std::vector<Prediction> expected = cpp.classify(image, 5);
  squeezenet_prediction got[5];
  int count = 0;
  ASSERT_EQ(squeezenet_classify(c.handle, c_image, 5, got, &count), SQUEEZENET_OK);
  ASSERT_EQ(count, 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].index, expected[static_cast<std::size_t>(i)].index);
    EXPECT_EQ(got[i].score, expected[static_cast<std::size_t>(i)].score);
    EXPECT_EQ(squeezenet_class_name(c.handle, got[i].index), class_name(got[i].index, 1000));
  }
  const Tensor map = cpp.class_activation_map(image, expected[0].index);
  std::vector<float> c_map(static_cast<std::size_t>(map.numel()));
  int height = 0, width = 0;
  ASSERT_EQ(squeezenet_class_activation_map(c.handle, c_image, expected[0].index, c_map.data(), c_map.size(), &height,
                                            &width),
            SQUEEZENET_OK);
  EXPECT_EQ(height, map.dim(0));
  EXPECT_EQ(width, map.dim(1));
  for (int64_t i = 0; i < map.numel(); ++i) ASSERT_EQ(c_map[static_cast<std::size_t>(i)], map[i]);
  squeezenet_image_free(c_image);
}

TEST(CApi, ErrorsCarryTheLibrarysMessageAndStayInTheirThread) {
  const std::string missing = test::data_dir() + "/no-such-file.safetensors";
  std::string cpp_message;
  try {
    Classifier::load(missing);
  } catch (const Error& e) {
    cpp_message = e.what();
  }
  ASSERT_FALSE(cpp_message.empty());
  squeezenet_classifier* handle = nullptr;
  EXPECT_EQ(squeezenet_classifier_load(missing.c_str(), nullptr, 0, &handle), SQUEEZENET_ERROR_INPUT);
  EXPECT_EQ(squeezenet_last_error(), cpp_message);
  std::string other_thread;
  std::thread([&] { other_thread = squeezenet_last_error(); }).join();
  EXPECT_EQ(other_thread, "");
  EXPECT_EQ(squeezenet_last_error(), cpp_message);
  EXPECT_EQ(squeezenet_classifier_load(missing.c_str(), "vgg", 0, &handle), SQUEEZENET_ERROR_INPUT);
  EXPECT_NE(std::string(squeezenet_last_error()).find("vgg"), std::string::npos) << squeezenet_last_error();
}

TEST(CApi, OneClassifierSharedByThreadsGivesEachTheSameAnswer) {
  CClassifier c(test::data_dir() + kWeights, 1);
  squeezenet_image* image = nullptr;
  ASSERT_EQ(squeezenet_image_decode_file((test::data_dir() + kImage).c_str(), &image), SQUEEZENET_OK);
  squeezenet_prediction alone{};
  int count = 0;
  ASSERT_EQ(squeezenet_classify(c.handle, image, 1, &alone, &count), SQUEEZENET_OK);
  std::vector<squeezenet_prediction> answers(4);
  std::vector<std::thread> threads;
  for (auto& answer : answers)
    threads.emplace_back([&] {
      int n = 0;
      for (int repeat = 0; repeat < 3; ++repeat) EXPECT_EQ(squeezenet_classify(c.handle, image, 1, &answer, &n), 0);
    });
  for (auto& t : threads) t.join();
  for (const auto& answer : answers) {
    EXPECT_EQ(answer.index, alone.index);
    EXPECT_EQ(answer.score, alone.score);
  }
  squeezenet_image_free(image);
}

}  // namespace
}  // namespace squeezenet
