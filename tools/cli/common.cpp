#include "common.h"

#include <omp.h>

#include <sstream>

#include "squeezenet/error.h"

namespace squeezenet::cli {

void ModelSource::add_options(CLI::App& cmd) {
  cmd.add_option("-w,--weights", weights, "Weights file (.safetensors, .pth, .caffemodel, .net, .param, .npy folder)");
  cmd.add_option("--format", format, "Weights format, when the file name does not tell");
  cmd.add_option("--arch", arch, "Architecture when no weights are given: squeezenet1_0 | squeezenet1_1")
      ->capture_default_str();
  cmd.add_option("--classes", classes, "Number of classes when no weights are given")->capture_default_str();
  cmd.add_option("--seed", seed, "Seed of the initialisation when no weights are given")->capture_default_str();
}

Model ModelSource::load(std::map<std::string, std::string>* meta) const {
  if (weights.empty()) {
    ModelConfig config;
    config.arch = parse_arch(arch);
    config.num_classes = classes;
    return Model(config, seed);
  }
  WeightFile wf = format.empty() ? load_weights(weights) : load_weights(weights, parse_format(format));
  if (meta) *meta = wf.metadata;
  return Model::from_weights(wf, weights);
}

void ClassifierSource::add_options(CLI::App& cmd, bool weights_required) {
  auto* w = cmd.add_option("-w,--weights", weights, "Weights file (any supported format)");
  if (weights_required) w->required();
  cmd.add_option("--preset", preset, "Preprocessing: torchvision | caffe | tflite (default: the weights' own)");
  cmd.add_option("-t,--threads", threads, "Threads (0 = all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
}

Classifier ClassifierSource::load(const std::function<std::string()>& fallback) const {
  std::optional<Preset> p;
  if (!preset.empty()) p = parse_preset(preset);
  return Classifier::load(weights.empty() && fallback ? fallback() : weights, p, threads);
}

int ClassifierSource::thread_count() const { return threads > 0 ? threads : omp_get_num_procs(); }

std::vector<Image> decode_images(const std::vector<std::string>& paths, int threads, std::vector<std::string>& errors) {
  std::vector<Image> images(paths.size());
  errors.assign(paths.size(), "");
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (std::size_t i = 0; i < paths.size(); ++i) {
    try {
      images[i] = decode_image(paths[i]);
    } catch (const std::exception& e) {
      errors[i] = printable(e.what(), kMessageBytes);
    }
  }
  return images;
}

std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 1) throw Error("bad shape " + quote_input(text) + ": expected e.g. 1,3,224,224");
    shape.push_back(v);
  }
  return shape;
}

}  // namespace squeezenet::cli
