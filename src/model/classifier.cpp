#include "squeezenet/classifier.h"

#include <omp.h>

#include <algorithm>
#include <sstream>

#include "kernels/reference/reference.h"
#include "model/forward_reference.h"
#include "squeezenet/error.h"

namespace squeezenet {

extern const char kImageNetClassesText[];  // generated from data/imagenet_classes.txt at build time

const std::vector<ImageNetClass>& imagenet_classes() {
  static const std::vector<ImageNetClass> classes = [] {
    std::vector<ImageNetClass> c;
    std::istringstream in(kImageNetClassesText);
    std::string line;
    while (std::getline(in, line)) {
      const auto tab = line.find('\t');
      if (tab != std::string::npos) c.push_back({line.substr(0, tab), line.substr(tab + 1)});
    }
    return c;
  }();
  return classes;
}

std::string class_name(int index, int num_classes) {
  const auto& classes = imagenet_classes();
  if (num_classes == static_cast<int>(classes.size()) && index >= 0 && index < num_classes)
    return classes[static_cast<std::size_t>(index)].name;
  return "class " + std::to_string(index);
}

Classifier Classifier::load(const std::string& weights, std::optional<Preset> preset, EngineOptions options) {
  const WeightFile wf = load_weights(weights);
  if (!preset) {
    const auto it = wf.metadata.find("preset");
    preset = it == wf.metadata.end() || it->second.empty() ? Preset::torchvision : parse_preset(it->second);
  }
  return Classifier(Model::from_weights(wf, weights), *preset, options);
}

Classifier Classifier::load(const std::string& weights, std::optional<Preset> preset, int threads) {
  return load(weights, preset, EngineOptions{.threads = threads});
}

Classifier::Classifier(Model model, Preset preset, EngineOptions options)
    : model_(std::make_unique<Model>(std::move(model))), preset_(preset), engine_(*model_, options) {}

Classifier::Classifier(Model model, Preset preset, int threads)
    : Classifier(std::move(model), preset, EngineOptions{.threads = threads}) {}

Tensor Classifier::logits(const Tensor& batch) { return engine_.forward(batch); }

std::vector<Prediction> Classifier::classify(const Image& image, int top) {
  return classify(std::vector<Image>{image}, top).front();
}

std::vector<std::vector<Prediction>> Classifier::classify(const std::vector<Image>& images, int top) {
  std::vector<std::vector<Prediction>> out;
  constexpr std::size_t kBatch = 16;  // bounds memory; large enough that per-call overhead vanishes
  for (std::size_t start = 0; start < images.size(); start += kBatch) {
    const std::size_t n = std::min(kBatch, images.size() - start);
    std::vector<Tensor> inputs(n);
#pragma omp parallel for schedule(dynamic) num_threads(engine_.threads())
    for (std::size_t i = 0; i < n; ++i) inputs[i] = preprocess(images[start + i], preset_);
    Shape shape = inputs[0].shape();
    shape[0] = static_cast<int64_t>(n);
    Tensor batch(shape);
    const int64_t per = inputs[0].numel();
    for (std::size_t i = 0; i < n; ++i) std::copy_n(inputs[i].data(), per, batch.data() + static_cast<int64_t>(i) * per);
    const Tensor probs = softmax(logits(batch));
    const int k = static_cast<int>(probs.dim(1));
    for (std::size_t i = 0; i < n; ++i) out.push_back(top_k(probs.data() + static_cast<int64_t>(i) * k, k, top));
  }
  return out;
}

Tensor Classifier::class_activation_map(const Image& image, int class_index) const {
  const ModelConfig& c = model_->config();
  if (class_index < 0 || class_index >= c.num_classes)
    throw Error("class " + std::to_string(class_index) + " is out of range for " + std::to_string(c.num_classes) +
                " classes");
  const Tensor f = features_reference(*model_, preprocess(image, preset_));
  const Tensor& w = model_->parameter("classifier.1.weight");
  const Tensor& b = model_->parameter("classifier.1.bias");
  const Tensor wc({1, w.dim(1), 1, 1}, w.data() + static_cast<int64_t>(class_index) * w.dim(1));
  const Tensor bc({1}, b.data() + class_index);
  Tensor map = ref::conv2d(f, wc, bc, 1, c.final_conv_pad);
  ref::relu_(map);
  map.reshape({map.dim(2), map.dim(3)});
  return map;
}

}  // namespace squeezenet
