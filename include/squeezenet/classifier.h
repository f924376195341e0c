#pragma once
// Images in, ImageNet classes out: a Model, the preprocessing its weights expect, and a fast Engine.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "squeezenet/engine.h"
#include "squeezenet/image.h"
#include "squeezenet/model.h"
#include "squeezenet/outputs.h"

namespace squeezenet {

struct ImageNetClass {
  std::string wnid;  // n01440764
  std::string name;  // tench
};
// The 1000 ILSVRC-2012 classes in index order (sorted wnids: n01440764 = 0), embedded in the library.
const std::vector<ImageNetClass>& imagenet_classes();
// The human name of output `index` for a model with `num_classes` outputs ("class 7" when not ImageNet's 1000).
std::string class_name(int index, int num_classes);

class Classifier {
 public:
  // Loads weights of any supported format. The preset is the weights' own (their metadata), unless given;
  // weights that say nothing get `torchvision`.
  static Classifier load(const std::string& weights, std::optional<Preset> preset, EngineOptions options);
  static Classifier load(const std::string& weights, std::optional<Preset> preset = {}, int threads = 0);
  Classifier(Model model, Preset preset, EngineOptions options);
  Classifier(Model model, Preset preset, int threads = 0);

  // Top-k classes with softmax probabilities, largest first.
  std::vector<Prediction> classify(const Image& image, int top = 5);
  // Many images at once: preprocessing runs on all cores, the network on batches.
  std::vector<std::vector<Prediction>> classify(const std::vector<Image>& images, int top = 5);
  // [N, 3, H, W] preprocessed batch -> [N, num_classes] logits.
  Tensor logits(const Tensor& batch);

  // Class activation map: the final conv's (post-ReLU) output for `class_index`, [h, w] (13x13 for a 224 input).
  // SqueezeNet's logit is exactly the mean of this map, so it shows where the evidence for the class lies.
  Tensor class_activation_map(const Image& image, int class_index) const;

  const Model& model() const { return *model_; }
  Preset preset() const { return preset_; }
  const Engine& engine() const { return engine_; }

 private:
  std::unique_ptr<Model> model_;  // Engine keeps a pointer: the model must not move
  Preset preset_;
  Engine engine_;
};

}  // namespace squeezenet
