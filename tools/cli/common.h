#pragma once
// Options several subcommands share: where the model comes from.
#include <CLI/CLI.hpp>
#include <string>

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

std::vector<int64_t> parse_shape(const std::string& text);

}  // namespace squeezenet::cli
