#include "squeezenet/error.h"
#include "squeezenet/train.h"
#include "util/rng.h"

namespace squeezenet {

Model with_new_classifier(const Model& model, int classes, uint64_t seed) {
  if (classes < 1 || classes > (1 << 20)) throw Error("--classes must be between 1 and 2^20, got " + std::to_string(classes));
  WeightFile wf = model.to_weights();
  Tensor w({classes, 512, 1, 1});
  Rng rng(seed);
  for (int64_t i = 0; i < w.numel(); ++i) w[i] = static_cast<float>(0.01 * rng.normal());
  wf.tensors["classifier.1.weight"] = std::move(w);
  wf.tensors["classifier.1.bias"] = Tensor({classes});
  wf.metadata["num_classes"] = std::to_string(classes);
  return Model::from_weights(wf, "new classifier");
}

}  // namespace squeezenet
