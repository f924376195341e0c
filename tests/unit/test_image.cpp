// Image decoding and preprocessing against PIL, torchvision and OpenCV (reference files made by
// tests/fixtures/make_image_fixtures.py), plus the rules that need no reference files.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "image/preprocess.h"
#include "squeezenet/error.h"
#include "squeezenet/image.h"
#include "test_env.h"
#include "util/io.h"

namespace squeezenet {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name, path;
  int width = 0, height = 0;
};

// Where the reference files are: $SQUEEZENET_IMAGE_FIXTURES when set (check_preprocess_all.py points it at
// a slice of a whole folder), else <fixtures>/image, made by the generator script when missing or stale.
// CTest runs each test in its own process, possibly in parallel: a lock and a stamp make the first one
// generate and the others reuse.
class ImageParity : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (const char* given = std::getenv("SQUEEZENET_IMAGE_FIXTURES"); given && *given) {
      dir_ = given;
    } else if (!fs::exists("/usr/bin/python3") || !fs::is_directory(test::data_dir())) {
      skip_ = "needs /usr/bin/python3 and the shared data in " + test::data_dir();
      return;
    } else {
      dir_ = test::fixtures_dir() + "/image";
      error_ = generate_once();
      if (!error_.empty()) return;
    }
    std::ifstream manifest(dir_ + "/manifest.txt");
    for (std::string line; std::getline(manifest, line);) {
      std::istringstream fields(line);
      Case c;
      std::string w, h;
      std::getline(fields, c.name, '\t');
      std::getline(fields, c.path, '\t');
      std::getline(fields, w, '\t');
      std::getline(fields, h, '\t');
      c.width = std::stoi(w);
      c.height = std::stoi(h);
      cases_.push_back(c);
    }
    if (error_.empty() && cases_.empty()) error_ = "no cases in " + dir_ + "/manifest.txt";
  }

  // Regenerates when the script or the data folder changed since the last run (the stamp holds both).
  static std::string generate_once() {
    const fs::path script = fs::path(__FILE__).parent_path().parent_path() / "fixtures" / "make_image_fixtures.py";
    const std::string stamp = std::to_string(std::hash<std::string>{}(read_file(script) + test::data_dir()));
    fs::create_directories(test::fixtures_dir());
    const int lock = ::open((dir_ + ".lock").c_str(), O_CREAT | O_RDWR, 0644);
    if (lock < 0) return "cannot open " + dir_ + ".lock";
    ::flock(lock, LOCK_EX);  // held until close
    std::string error;
    const std::string stamp_file = dir_ + "/stamp";
    if (!fs::exists(stamp_file) || read_file(stamp_file) != stamp) {
      fs::remove_all(dir_);
      const std::string log = dir_ + ".log";
      const std::string command = "/usr/bin/python3 '" + script.string() + "' --data '" + test::data_dir() +
                                  "' --out '" + dir_ + "' > '" + log + "' 2>&1";
      if (std::system(command.c_str()) == 0)
        write_file_atomic(stamp_file, stamp);
      else
        error = "fixture generation failed: " + read_file(log);
      fs::remove(log);
    }
    ::close(lock);
    return error;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(error_.empty()) << error_;
  }

  static std::string file(const Case& c, const std::string& suffix) { return dir_ + "/" + c.name + suffix; }

  // PIL's decode, so that resize checks do not depend on our decoder.
  static Image reference_rgb(const Case& c) {
    const std::string bytes = read_file(file(c, ".rgb"));
    return Image{c.width, c.height, std::vector<uint8_t>(bytes.begin(), bytes.end())};
  }

  static inline std::string dir_, skip_, error_;
  static inline std::vector<Case> cases_;
};

struct Diff {
  int64_t count = 0;  // differing bytes
  int max = 0;        // largest difference
};

Diff diff(const std::vector<uint8_t>& ours, const std::string& theirs) {
  Diff d;
  if (ours.size() != theirs.size()) return Diff{-1, 256};
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const int delta = std::abs(int{ours[i]} - int{static_cast<uint8_t>(theirs[i])});
    d.count += delta != 0;
    d.max = std::max(d.max, delta);
  }
  return d;
}

// One parseable line per case and check, for the log and for check_preprocess_all.py.
void report(const std::string& check, const Case& c, const Diff& d) {
  std::cout << "[image] " << check << " " << c.name << " differing=" << d.count << " max=" << d.max << "\n";
}

TEST_F(ImageParity, DecodeEqualsPil) {
  for (const Case& c : cases_) {
    SCOPED_TRACE(c.path);
    const Image ours = decode_image(c.path);
    ASSERT_EQ(ours.width, c.width);
    ASSERT_EQ(ours.height, c.height);
    const Diff d = diff(ours.rgb, read_file(file(c, ".rgb")));
    report("decode", c, d);
    EXPECT_EQ(d.count, 0) << "pixels differ from PIL's convert(\"RGB\"), by up to " << d.max;
  }
}

TEST_F(ImageParity, TorchvisionCropEqualsPilResize) {
  for (const Case& c : cases_) {
    SCOPED_TRACE(c.path);
    const Diff d =
        diff(resize_and_crop(reference_rgb(c), Preset::torchvision).rgb, read_file(file(c, ".torchvision.u8")));
    report("torchvision", c, d);
    EXPECT_EQ(d.count, 0) << "bytes differ from Resize(256) + CenterCrop(224), by up to " << d.max;
  }
}

TEST_F(ImageParity, CaffeCropEqualsOpenCvResize) {
  for (const Case& c : cases_) {
    SCOPED_TRACE(c.path);
    const Diff d = diff(resize_and_crop(reference_rgb(c), Preset::caffe).rgb, read_file(file(c, ".caffe.u8")));
    report("caffe", c, d);
    EXPECT_EQ(d.count, 0) << "bytes differ from cv2.resize INTER_LINEAR + crop 227, by up to " << d.max;
  }
}

TEST_F(ImageParity, PresetTensorsEqualPython) {
  for (const Case& c : cases_) {
    for (Preset preset : {Preset::torchvision, Preset::caffe, Preset::tflite}) {
      const std::string path = file(c, "." + preset_name(preset) + ".f32");
      if (!fs::exists(path)) continue;  // slices of the whole sample set carry crops only
      SCOPED_TRACE(path);
      const Tensor ours = preprocess(reference_rgb(c), preset);
      const std::string bytes = read_file(path);
      ASSERT_EQ(static_cast<std::size_t>(ours.numel()) * sizeof(float), bytes.size());
      const Tensor theirs(ours.shape(), reinterpret_cast<const float*>(bytes.data()));
      EXPECT_LE(max_abs_diff(ours, theirs), 1e-6f);
    }
  }
}

TEST_F(ImageParity, BrokenAndUnsupportedFilesThrowNamingTheFile) {
  std::ifstream manifest(dir_ + "/bad/manifest.txt");
  if (!manifest) GTEST_SKIP() << "no bad files in " << dir_;
  int checked = 0;
  for (std::string line; std::getline(manifest, line); ++checked) {
    const std::string path = line.substr(0, line.find('\t')), phrase = line.substr(line.find('\t') + 1);
    SCOPED_TRACE(path);
    try {
      decode_image(path);
      ADD_FAILURE() << "decoded without error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_NE(message.find(phrase), std::string::npos) << message;
    }
  }
  EXPECT_GT(checked, 0);
}

// A random image, so that every pixel differs from its neighbours.
Image noise(int width, int height, unsigned seed) {
  Image image{width, height, std::vector<uint8_t>(3 * static_cast<std::size_t>(width) * height)};
  for (auto& v : image.rgb) v = static_cast<uint8_t>((seed = seed * 1103515245u + 12345u) >> 16);
  return image;
}

Image window_of(const Image& image, const Window& w) {
  Image out{w.width, w.height, {}};
  for (int y = w.top; y < w.top + w.height; ++y) {
    const auto* row = &image.rgb[3 * (static_cast<std::size_t>(y) * image.width + w.left)];
    out.rgb.insert(out.rgb.end(), row, row + 3 * w.width);
  }
  return out;
}

TEST(ImagePreprocess, PresetNamesRoundTrip) {
  for (Preset p : {Preset::torchvision, Preset::caffe, Preset::tflite}) EXPECT_EQ(parse_preset(preset_name(p)), p);
  EXPECT_THROW(parse_preset("imagenet"), Error);
}

TEST(ImagePreprocess, ShorterSideAsTorchvision) {
  EXPECT_EQ(shorter_side_resize(500, 375, 256), (std::pair{341, 256}));
  EXPECT_EQ(shorter_side_resize(375, 500, 256), (std::pair{256, 341}));
  EXPECT_EQ(shorter_side_resize(333, 500, 256), (std::pair{256, 384}));  // 384.38 truncated
  EXPECT_EQ(shorter_side_resize(256, 256, 256), (std::pair{256, 256}));
  EXPECT_EQ(shorter_side_resize(1, 1, 256), (std::pair{256, 256}));
  EXPECT_EQ(shorter_side_resize(16384, 1, 256), (std::pair{4194304, 256}));
}

TEST(ImagePreprocess, CenterCropRoundsHalfToEven) {
  EXPECT_EQ(center_crop_offset(224, 224), 0);
  EXPECT_EQ(center_crop_offset(225, 224), 0);   // round(0.5) = 0
  EXPECT_EQ(center_crop_offset(227, 224), 2);   // round(1.5) = 2
  EXPECT_EQ(center_crop_offset(341, 224), 58);  // round(58.5) = 58
  EXPECT_EQ(center_crop_offset(256, 227), 14);  // Caffe's (256 - 227) / 2
  const Image image = noise(5, 4, 1);
  const Image crop = center_crop(image, 2, 3);
  EXPECT_EQ(crop.rgb, window_of(image, Window{2, 0, 2, 3}).rgb);  // left round(1.5) = 2, top round(0.5) = 0
  EXPECT_THROW(center_crop(image, 6, 1), Error);
}

TEST(ImagePreprocess, PilWindowEqualsSameWindowOfFullResize) {
  const Image image = noise(97, 61, 7);
  for (auto [w, h] : {std::pair{300, 200}, std::pair{40, 30}, std::pair{97, 200}, std::pair{300, 61}}) {
    const Window window{w / 5, h / 7, w / 2, h / 3};
    EXPECT_EQ(resize_pil_bilinear_window(image, w, h, window).rgb,
              window_of(resize_pil_bilinear(image, w, h), window).rgb)
        << w << "x" << h;
  }
}

TEST(ImagePreprocess, SameSizeResizeIsIdentity) {
  const Image image = noise(33, 20, 3);
  EXPECT_EQ(resize_pil_bilinear(image, 33, 20).rgb, image.rgb);
  EXPECT_EQ(resize_cv_linear(image, 33, 20).rgb, image.rgb);
}

TEST(ImagePreprocess, OnePixelImageGivesConstantTensors) {
  const Image pixel{1, 1, {10, 20, 30}};
  const Tensor tv = preprocess(pixel, Preset::torchvision);
  ASSERT_EQ(tv.shape(), (Shape{1, 3, 224, 224}));
  const Tensor caffe = preprocess(pixel, Preset::caffe);
  ASSERT_EQ(caffe.shape(), (Shape{1, 3, 227, 227}));
  const Tensor tflite = preprocess(pixel, Preset::tflite);
  const float rgb[3] = {10, 20, 30};
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(tv[c * 224 * 224 + 1234], (rgb[c] / 255.0f - mean[c]) / stdev[c]);
    EXPECT_EQ(tflite[c * 224 * 224 + 4321], (rgb[c] - 127.5f) / 127.5f);
  }
  EXPECT_EQ(caffe[0 * 227 * 227 + 999], 30.0f - 104.0f);  // BGR
  EXPECT_EQ(caffe[1 * 227 * 227 + 999], 20.0f - 117.0f);
  EXPECT_EQ(caffe[2 * 227 * 227 + 999], 10.0f - 123.0f);
}

TEST(ImagePreprocess, ExtremeAspectRatioComputesOnlyTheCrop) {
  // Resize(256) makes this 4194304 x 256; only the 224 x 224 crop may be materialised.
  const Image strip = noise(16384, 1, 5);
  EXPECT_EQ(preprocess(strip, Preset::torchvision).shape(), (Shape{1, 3, 224, 224}));
}

TEST(ImagePreprocess, MalformedImagesAreRejected) {
  const Image short_buffer{2, 2, {1, 2, 3}};
  EXPECT_THROW(preprocess(short_buffer, Preset::torchvision), Error);
  EXPECT_THROW(resize_cv_linear(short_buffer, 4, 4), Error);
  EXPECT_THROW(resize_pil_bilinear(noise(4, 4, 1), 0, 4), Error);
  EXPECT_THROW(preprocess(Image{}, Preset::caffe), Error);
}

TEST(ImageDecode, ErrorsNameTheFile) {
  try {
    decode_image("/nonexistent/picture.jpg");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/picture.jpg"), std::string::npos) << e.what();
  }
  try {
    decode_image_bytes("BM\x36\0\0\0", "memory.bmp");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("memory.bmp"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("BMP"), std::string::npos) << e.what();
  }
}

TEST(ImageDecode, SharedDataQuirks) {
  const std::string ants = test::data_dir() + "/hymenoptera_data/train/ants/";
  if (!fs::is_directory(ants)) GTEST_SKIP() << "no shared data";
  EXPECT_THROW(decode_image(ants + "imageNotFound.gif"), Error);  // the tutorial zip's GIF placeholder
  EXPECT_GT(decode_image(ants + "ant photos.jpg").width, 0);
}

TEST(ImageDecode, LimitsApplyBeforeDecoding) {
  const std::string tench = test::data_dir() + "/imagenet-sample-1000/n01440764_tench.JPEG";  // 500x375
  if (!fs::exists(tench)) GTEST_SKIP() << "no shared data";
  EXPECT_THROW(decode_image(tench, DecodeLimits{499, 1'000'000}), Error);
  EXPECT_THROW(decode_image(tench, DecodeLimits{1000, 500 * 375 - 1}), Error);
  EXPECT_EQ(decode_image(tench, DecodeLimits{500, 500 * 375}).width, 500);
}

}  // namespace
}  // namespace squeezenet
