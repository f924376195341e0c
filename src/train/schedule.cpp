#include <algorithm>
#include <cmath>

#include "squeezenet/error.h"
#include "squeezenet/train.h"

namespace squeezenet {

LrPolicy parse_lr_policy(const std::string& name) {
  if (name == "fixed") return LrPolicy::fixed;
  if (name == "poly") return LrPolicy::poly;
  if (name == "step") return LrPolicy::step;
  if (name == "cosine") return LrPolicy::cosine;
  throw Error("unknown learning-rate policy " + quote_input(name) + " (expected fixed, poly, step or cosine)");
}

double LrSchedule::lr_at(int64_t step) const {
  const double t = static_cast<double>(std::clamp<int64_t>(step, 0, total_steps)) /
                   static_cast<double>(std::max<int64_t>(total_steps, 1));
  double lr = base_lr;
  switch (policy) {
    case LrPolicy::fixed: break;
    case LrPolicy::poly: lr = base_lr * std::pow(1.0 - t, power); break;
    case LrPolicy::step: lr = base_lr * std::pow(gamma, static_cast<double>(step / std::max<int64_t>(step_size, 1))); break;
    case LrPolicy::cosine: lr = base_lr * 0.5 * (1.0 + std::cos(M_PI * t)); break;
  }
  if (step < warmup_steps) lr *= static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  return lr;
}

}  // namespace squeezenet
