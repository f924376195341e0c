#include "squeezenet/train.h"

namespace squeezenet {

Model with_dropout(const Model& model, float classifier_p, float features_p) {
  ModelConfig config = model.config();
  config.dropout = classifier_p;
  config.features_dropout = features_p;
  Model out(config);  // its own initial values are all replaced below
  for (const std::string& name : model.parameter_names()) out.parameter(name) = model.parameter(name);
  return out;
}

}  // namespace squeezenet
