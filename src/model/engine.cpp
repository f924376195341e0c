#include "squeezenet/engine.h"

#include <omp.h>

#include "kernels/dispatch.h"
#include "kernels/x86/kernel_table.h"
#include "model/forward_reference.h"
#include "model/plan.h"
#include "squeezenet/error.h"

namespace squeezenet {

namespace {
// Plans kept per engine: enough for a few alternating input sizes without letting a stream of odd sizes
// pile up packed weights and buffers.
constexpr std::size_t kMaxPlans = 4;
}  // namespace

std::string precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::bf16: return "bf16";
    case Precision::int8: return "int8";
  }
  return "unknown";
}

Precision parse_precision(const std::string& name) {
  for (Precision p : {Precision::fp32, Precision::bf16, Precision::int8})
    if (name == precision_name(p)) return p;
  throw Error("unknown precision '" + name + "': expected fp32, bf16 or int8");
}

Engine::Engine(const Model& model, EngineOptions options)
    : model_(&model),
      threads_(options.threads > 0 ? options.threads : omp_get_max_threads()),
      precision_(options.precision),
      kernels_(kernels::fastest_kernels(options.precision)) {
  if (options.threads < 0)
    throw Error("engine: thread count must be 0 (one per core) or positive, got " + std::to_string(options.threads));
}

Engine::Engine(const Model& model, int threads) : Engine(model, EngineOptions{.threads = threads}) {}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

const char* Engine::kernel_family() const { return kernels_ ? kernels_->family : "reference-fp32"; }

Tensor Engine::forward(const Tensor& input) {
  if (!kernels_) return forward_reference(*model_, input);
  check_input(model_->config(), input.shape());
  auto it = plans_.find(input.shape());
  if (it == plans_.end()) {
    if (plans_.size() >= kMaxPlans) plans_.clear();
    it = plans_.emplace(input.shape(), std::make_unique<Plan>(*model_, input.shape(), threads_, kernels_)).first;
  }
  Tensor logits({input.dim(0), model_->config().num_classes});
  it->second->run(input.data(), logits.data());
  return logits;
}

}  // namespace squeezenet
