#include "common.h"

#include <omp.h>

#include <cstdio>
#include <sstream>

#include "squeezenet/dataset.h"
#include "squeezenet/error.h"

namespace squeezenet::cli {

void ModelSource::add_options(CLI::App& cmd) {
  cmd.add_option("-w,--weights", weights,
                 "Weights file (.safetensors, .pth, .caffemodel, .net, .sqz, .param, .onnx, .npy folder)");
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

void PrecisionOption::add_option(CLI::App& cmd) {
  cmd.add_option("--precision", name,
                 "Number format of the convs: fp32 (exact to PyTorch within 1e-4) | bf16 (needs AVX512-BF16) | int8")
      ->capture_default_str();
}

void ClassifierSource::add_options(CLI::App& cmd, bool weights_required) {
  auto* w = cmd.add_option("-w,--weights", weights, "Weights file (any supported format)");
  if (weights_required) w->required();
  cmd.add_option("--preset", preset, "Preprocessing: torchvision | caffe | tflite (default: the weights' own)");
  cmd.add_option("-t,--threads", threads, "Threads (0 = all cores)")->capture_default_str()->check(CLI::NonNegativeNumber);
  precision.add_option(cmd);
}

Classifier ClassifierSource::load(const std::function<std::string()>& fallback) const {
  std::optional<Preset> p;
  if (!preset.empty()) p = parse_preset(preset);
  const EngineOptions options{.threads = threads, .precision = precision.get()};
  Classifier clf = Classifier::load(weights.empty() && fallback ? fallback() : weights, p, options);
  note_on_the_fly_quantization(clf.model(), options.precision);
  return clf;
}

void note_on_the_fly_quantization(const Model& model, Precision precision) {
  if (precision == Precision::int8 && !model.quantization())
    std::fprintf(stderr,
                 "note: fp32 weights run as int8 quantized on the fly, calibrated on synthetic images; for accuracy, "
                 "calibrate on real ones with `squeezenet quantize`\n");
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

std::vector<Tensor> calibration_images(const std::string& dir, int count, Preset preset, int threads) {
  const LabelledFolder folder = scan_labelled_folder(dir);
  std::vector<std::string> paths;
  const std::size_t n = folder.images.size(), take = std::min(n, static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < take; ++i) paths.push_back(folder.images[i * n / take].path);
  std::vector<std::string> errors;
  const std::vector<Image> images = decode_images(paths, threads > 0 ? threads : omp_get_num_procs(), errors);
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (!errors[i].empty()) {
      std::fprintf(stderr, "warning: skipping calibration image: %s\n", errors[i].c_str());
      continue;
    }
    out.push_back(preprocess(images[i], preset));
  }
  if (out.empty()) throw Error(dir + ": none of its images could be decoded for calibration");
  return out;
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
