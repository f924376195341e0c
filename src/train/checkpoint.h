#pragma once
// Everything a run needs to continue exactly where it stopped, in one safetensors file written atomically:
// the parameters under their state_dict names, the SGD momentum buffers under "momentum.<name>", and the
// counters, seeds and history as metadata. Readable by any safetensors tool.
#include <map>
#include <string>

#include "squeezenet/train.h"

namespace squeezenet::train {

struct Checkpoint {
  Model model;
  std::map<std::string, Tensor> momentum;
  std::map<std::string, std::string> state;  // run counters and settings, "train.*" metadata without the prefix
};

void save_checkpoint(const std::string& path, const Model& model, Sgd& sgd,
                     const std::map<std::string, std::string>& state, const std::string& preset);
// Throws Error naming the file when it is not a checkpoint or not one of `arch` with `classes` outputs.
Checkpoint load_checkpoint(const std::string& path, Arch arch, int classes);

}  // namespace squeezenet::train
