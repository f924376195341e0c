#include <vector>

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
  const bool nesterov = options_.nesterov;
  struct Update {
    float* param;
    const float* grad;
    float* buffer;  // null without momentum
    bool first;     // the buffer starts as the first step's d itself, undamped
    float lr;
    int64_t size;
  };
  std::vector<Update> updates;
  for (const auto& [name, grad] : grads) {
    Tensor& p = model.parameter(name);
    if (grad.shape() != p.shape())
      throw Error("sgd: gradient of '" + name + "' has shape " + shape_str(grad.shape()) + ", the parameter " +
                  shape_str(p.shape()));
    Update u{p.data(), grad.data(), nullptr, false, static_cast<float>(lr * lr_mult(name)), p.numel()};
    if (mom != 0.0f) {
      auto it = buffers_.find(name);
      u.first = it == buffers_.end();
      if (u.first) it = buffers_.emplace(name, Tensor(p.shape())).first;
      if (it->second.shape() != p.shape())
        throw Error("sgd: momentum buffer of '" + name + "' has shape " + shape_str(it->second.shape()));
      u.buffer = it->second.data();
    }
    updates.push_back(u);
  }
  // Element by element, so threads change nothing in the results; one parallel region for all parameters.
#pragma omp parallel
  for (const Update& u : updates) {
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < u.size; ++i) {
      float d = u.grad[i];
      if (wd != 0.0f) d += wd * u.param[i];
      if (u.buffer) {
        u.buffer[i] = u.first ? d : mom * u.buffer[i] + damp * d;
        d = nesterov ? d + mom * u.buffer[i] : u.buffer[i];
      }
      u.param[i] -= u.lr * d;
    }
  }
}

}  // namespace squeezenet
