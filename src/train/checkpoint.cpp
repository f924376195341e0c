#include "train/checkpoint.h"

#include "squeezenet/error.h"
#include "squeezenet/weights.h"

namespace squeezenet::train {
namespace {
const std::string kMomentum = "momentum.", kState = "train.";
}

void save_checkpoint(const std::string& path, const Model& model, Sgd& sgd,
                     const std::map<std::string, std::string>& state, const std::string& preset) {
  WeightFile wf = model.to_weights(preset);
  for (const auto& [name, buf] : sgd.momentum_buffers()) wf.tensors[kMomentum + name] = buf;
  for (const auto& [key, value] : state) wf.metadata[kState + key] = value;
  wf.metadata["checkpoint"] = "1";
  save_weights(wf, path, Format::safetensors);
}

Checkpoint load_checkpoint(const std::string& path, Arch arch, int classes) {
  WeightFile wf = load_weights(path, Format::safetensors);
  if (!wf.metadata.count("checkpoint"))
    throw Error(path + ": not a training checkpoint (no 'checkpoint' metadata); pass weights with --weights");
  Checkpoint c{Model(), {}, {}};
  WeightFile params;
  params.metadata = wf.metadata;
  for (auto& [name, t] : wf.tensors) {
    if (name.starts_with(kMomentum))
      c.momentum[name.substr(kMomentum.size())] = std::move(t);
    else
      params.tensors[name] = std::move(t);
  }
  c.model = Model::from_weights(params, path);
  if (c.model.config().arch != arch)
    throw Error(path + ": the checkpoint is of " + arch_name(c.model.config().arch) + ", this run trains " +
                arch_name(arch));
  if (c.model.config().num_classes != classes)
    throw Error(path + ": the checkpoint has " + std::to_string(c.model.config().num_classes) +
                " classes, this run's data has " + std::to_string(classes));
  for (const auto& [name, buf] : c.momentum)
    if (buf.shape() != c.model.parameter(name).shape())
      throw Error(path + ": momentum buffer " + quote_input(name) + " has shape " + shape_str(buf.shape()));
  for (const auto& [key, value] : wf.metadata)
    if (key.starts_with(kState)) c.state[key.substr(kState.size())] = value;
  return c;
}

}  // namespace squeezenet::train
