#include "squeezenet/error.h"
#include "squeezenet/train.h"

namespace squeezenet {

double Sgd::lr_mult(const std::string& name) const {
  auto it = lr_mult_.find(name);
  return it == lr_mult_.end() ? 1.0 : it->second;
}

void Sgd::step(Model& model, const Gradients& grads, double lr) {
  const auto wd = static_cast<float>(options_.weight_decay), mom = static_cast<float>(options_.momentum);
  const auto damp = static_cast<float>(1.0 - options_.dampening);
  for (const auto& [name, grad] : grads) {
    Tensor& p = model.parameter(name);
    if (grad.shape() != p.shape())
      throw Error("sgd: gradient of '" + name + "' has shape " + shape_str(grad.shape()) + ", the parameter " +
                  shape_str(p.shape()));
    const auto step_lr = static_cast<float>(lr * lr_mult(name));
    Tensor d = grad;
    if (wd != 0.0f)
      for (int64_t i = 0; i < d.numel(); ++i) d[i] += wd * p[i];
    if (mom != 0.0f) {
      auto it = buffers_.find(name);
      if (it == buffers_.end()) {
        it = buffers_.emplace(name, d).first;  // the first step's buffer is d itself, undamped
      } else {
        if (it->second.shape() != p.shape())
          throw Error("sgd: momentum buffer of '" + name + "' has shape " + shape_str(it->second.shape()));
        for (int64_t i = 0; i < d.numel(); ++i) it->second[i] = mom * it->second[i] + damp * d[i];
      }
      const Tensor& buf = it->second;
      for (int64_t i = 0; i < d.numel(); ++i) d[i] = options_.nesterov ? d[i] + mom * buf[i] : buf[i];
    }
    for (int64_t i = 0; i < p.numel(); ++i) p[i] -= step_lr * d[i];
  }
}

}  // namespace squeezenet
