#include "squeezenet/engine.h"

#include <omp.h>

#include <algorithm>

#include "kernels/dispatch.h"
#include "model/forward_reference.h"
#include "model/plan.h"
#include "squeezenet/error.h"

namespace squeezenet {

namespace {
// Plans kept per engine: enough for a few alternating input sizes without letting a stream of odd sizes
// pile up packed weights and buffers.
constexpr std::size_t kMaxPlans = 4;
}  // namespace

Engine::Engine(const Model& model, int threads)
    : model_(&model), threads_(threads > 0 ? threads : omp_get_max_threads()) {
  if (threads < 0)
    throw Error("engine: thread count must be 0 (one per core) or positive, got " + std::to_string(threads));
}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

Tensor Engine::forward(const Tensor& input) {
  check_input(model_->config(), input.shape());
  Tensor logits({input.dim(0), model_->config().num_classes});
  forward(input.data(), input.shape(), logits.data());
  return logits;
}

void Engine::forward(const float* input, const Shape& shape, float* logits) {
  check_input(model_->config(), shape);
  if (!kernels::has_avx2_fma()) {
    const Tensor out = forward_reference(*model_, Tensor(shape, input));
    std::copy_n(out.data(), out.numel(), logits);
    return;
  }
  auto it = plans_.find(shape);
  if (it == plans_.end()) {
    if (plans_.size() >= kMaxPlans) plans_.clear();
    it = plans_.emplace(shape, std::make_unique<Plan>(*model_, shape, threads_)).first;
  }
  it->second->run(input, logits);
}

}  // namespace squeezenet
