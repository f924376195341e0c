#pragma once
// Options several subcommands share: where the model comes from.
#include <CLI/CLI.hpp>
#include <string>

#include <functional>

#include "squeezenet/classifier.h"
#include "squeezenet/model.h"

namespace squeezenet::cli {

struct ModelSource {
  std::string weights;  // a weights file; empty: a freshly initialised network of `arch`
  std::string format;   // optional override of format detection
  std::string arch = "squeezenet1_1";
  int classes = 1000;
  uint64_t seed = 0;

  void add_options(CLI::App& cmd);
  // The loaded, validated model; also returns the file's metadata in `meta` when given.
  Model load(std::map<std::string, std::string>* meta = nullptr) const;
};

// --precision, as classify, eval, predict and bench take it.
struct PrecisionOption {
  std::string name = "fp32";

  void add_option(CLI::App& cmd);
  Precision get() const { return parse_precision(name); }
};

// Weights, preset, threads and precision, as classify and eval take them.
struct ClassifierSource {
  std::string weights, preset;
  int threads = 0;
  PrecisionOption precision;

  void add_options(CLI::App& cmd, bool weights_required);
  // `fallback` gives the weights file when --weights was not given.
  Classifier load(const std::function<std::string()>& fallback = {}) const;
  int thread_count() const;  // --threads, or one per core
};

// Decodes `paths` on `threads` threads. A file that fails leaves an empty Image and its message in errors[i],
// so one bad file never stops a batch.
std::vector<Image> decode_images(const std::vector<std::string>& paths, int threads, std::vector<std::string>& errors);

std::vector<int64_t> parse_shape(const std::string& text);

// Says on stderr when int8 runs fp32 weights, which the engine then quantizes on synthetic images.
void note_on_the_fly_quantization(const Model& model, Precision precision);

// Up to `count` images of `dir` (a labelled or flat folder), spread evenly over it, preprocessed by `preset`:
// [1, 3, H, W] each. Files that fail to decode are skipped with a warning; none decoding is an error.
std::vector<Tensor> calibration_images(const std::string& dir, int count, Preset preset, int threads);

}  // namespace squeezenet::cli
