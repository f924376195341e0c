// The C API over Classifier: every entry point catches everything, so no exception reaches a C caller, and turns
// it into a status code plus this thread's message.
#include "squeezenet/squeezenet.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "squeezenet/classifier.h"
#include "squeezenet/error.h"

struct squeezenet_classifier {
  squeezenet::Classifier classifier;
  std::vector<std::string> class_names;  // the C strings squeezenet_class_name hands out live here
  std::mutex mutex;                      // Engine is for one thread at a time
};

struct squeezenet_image {
  squeezenet::Image image;
};

namespace {

// A caller's mistake at this boundary, as opposed to bad content in a file or buffer.
class ArgumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

std::string& last_error() {
  thread_local std::string message;
  return message;
}

template <class Body>
squeezenet_status guarded(Body&& body) noexcept {
  squeezenet_status status = SQUEEZENET_ERROR_INTERNAL;
  try {
    body();
    last_error().clear();
    return SQUEEZENET_OK;
  } catch (const ArgumentError& e) {
    status = SQUEEZENET_ERROR_ARGUMENT;
    last_error() = e.what();
  } catch (const squeezenet::Error& e) {
    status = SQUEEZENET_ERROR_INPUT;
    last_error() = e.what();
  } catch (const std::bad_alloc&) {
    status = SQUEEZENET_ERROR_OUT_OF_MEMORY;
    last_error() = "out of memory";
  } catch (const std::exception& e) {
    last_error() = std::string("internal error: ") + e.what();
  } catch (...) {
    last_error() = "internal error: an unknown exception";
  }
  return status;
}

template <class T>
void require(const T* pointer, const char* name) {
  if (pointer == nullptr) throw ArgumentError(std::string(name) + " is NULL");
}

void require_positive(int64_t value, const char* name) {
  if (value < 1) throw ArgumentError(std::string(name) + " must be at least 1, not " + std::to_string(value));
}

}  // namespace

extern "C" {

const char* squeezenet_version(void) { return SQUEEZENET_VERSION; }

const char* squeezenet_last_error(void) { return last_error().c_str(); }

squeezenet_status squeezenet_classifier_load(const char* weights_path, const char* preset, int threads,
                                             squeezenet_classifier** out) {
  return guarded([&] {
    require(out, "out");
    *out = nullptr;
    require(weights_path, "weights_path");
    if (threads < 0) throw ArgumentError("threads must be 0 (one per core) or more, not " + std::to_string(threads));
    std::optional<squeezenet::Preset> chosen;
    if (preset != nullptr) chosen = squeezenet::parse_preset(preset);
    auto* handle = new squeezenet_classifier{squeezenet::Classifier::load(weights_path, chosen, threads), {}, {}};
    const int classes = handle->classifier.model().config().num_classes;
    handle->class_names.reserve(static_cast<std::size_t>(classes));
    for (int i = 0; i < classes; ++i) handle->class_names.push_back(squeezenet::class_name(i, classes));
    *out = handle;
  });
}

void squeezenet_classifier_free(squeezenet_classifier* classifier) { delete classifier; }

int squeezenet_num_classes(const squeezenet_classifier* classifier) {
  return classifier == nullptr ? 0 : static_cast<int>(classifier->class_names.size());
}

const char* squeezenet_class_name(const squeezenet_classifier* classifier, int index) {
  if (classifier == nullptr || index < 0 || index >= squeezenet_num_classes(classifier)) return nullptr;
  return classifier->class_names[static_cast<std::size_t>(index)].c_str();
}

squeezenet_status squeezenet_image_decode_file(const char* path, squeezenet_image** out) {
  return guarded([&] {
    require(out, "out");
    *out = nullptr;
    require(path, "path");
    *out = new squeezenet_image{squeezenet::decode_image(path)};
  });
}

squeezenet_status squeezenet_image_decode_memory(const void* data, size_t size, const char* name,
                                                 squeezenet_image** out) {
  return guarded([&] {
    require(out, "out");
    *out = nullptr;
    if (size > 0) require(data, "data");
    const std::string_view bytes(static_cast<const char*>(data), size);
    *out = new squeezenet_image{squeezenet::decode_image_bytes(bytes, name != nullptr ? name : "buffer")};
  });
}

int squeezenet_image_width(const squeezenet_image* image) { return image == nullptr ? 0 : image->image.width; }

int squeezenet_image_height(const squeezenet_image* image) { return image == nullptr ? 0 : image->image.height; }

void squeezenet_image_free(squeezenet_image* image) { delete image; }

squeezenet_status squeezenet_classify(squeezenet_classifier* classifier, const squeezenet_image* image, int top,
                                      squeezenet_prediction* out, int* count) {
  return guarded([&] {
    require(count, "count");
    *count = 0;
    require(classifier, "classifier");
    require(image, "image");
    require(out, "out");
    require_positive(top, "top");
    std::vector<squeezenet::Prediction> predictions;
    {
      const std::lock_guard<std::mutex> lock(classifier->mutex);
      predictions = classifier->classifier.classify(image->image, top);
    }
    for (const squeezenet::Prediction& p : predictions) out[(*count)++] = {p.index, p.score};
  });
}

squeezenet_status squeezenet_logits(squeezenet_classifier* classifier, const float* input, int n, int height,
                                    int width, float* out, size_t out_capacity) {
  return guarded([&] {
    require(classifier, "classifier");
    require(input, "input");
    require(out, "out");
    require_positive(n, "n");
    require_positive(height, "height");
    require_positive(width, "width");
    // The element count must not wrap around: the input would be read past what the caller holds.
    if (static_cast<double>(n) * 3 * height * width * sizeof(float) > static_cast<double>(INT64_MAX))
      throw ArgumentError("an input of " + std::to_string(n) + " x 3 x " + std::to_string(height) + " x " +
                          std::to_string(width) + " floats is larger than any memory");
    const squeezenet::Shape shape{n, 3, height, width};
    const auto needed = static_cast<size_t>(n) * static_cast<size_t>(squeezenet_num_classes(classifier));
    if (out_capacity < needed)
      throw ArgumentError("out holds " + std::to_string(out_capacity) + " floats; the logits need " +
                          std::to_string(needed));
    // Checked before the input is copied, so a too-small size fails without reading the caller's memory.
    squeezenet::check_input(classifier->classifier.model().config(), shape);
    const squeezenet::Tensor batch(shape, input);
    const std::lock_guard<std::mutex> lock(classifier->mutex);
    const squeezenet::Tensor logits = classifier->classifier.logits(batch);
    std::copy_n(logits.data(), logits.numel(), out);
  });
}

squeezenet_status squeezenet_class_activation_map(squeezenet_classifier* classifier, const squeezenet_image* image,
                                                  int class_index, float* out, size_t out_capacity, int* height,
                                                  int* width) {
  return guarded([&] {
    require(height, "height");
    require(width, "width");
    *height = *width = 0;
    require(classifier, "classifier");
    require(image, "image");
    // Runs the reference forward on the immutable model, not the engine: no lock needed.
    const squeezenet::Tensor map = classifier->classifier.class_activation_map(image->image, class_index);
    *height = static_cast<int>(map.dim(0));
    *width = static_cast<int>(map.dim(1));
    const auto needed = static_cast<size_t>(map.numel());
    if (out_capacity < needed)
      throw ArgumentError("out holds " + std::to_string(out_capacity) + " floats; the map needs " +
                          std::to_string(needed) + " (" + std::to_string(*height) + " x " + std::to_string(*width) +
                          ")");
    require(out, "out");
    std::copy_n(map.data(), map.numel(), out);
  });
}

}  // extern "C"
