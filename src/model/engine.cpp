#include "squeezenet/engine.h"

#include <omp.h>

#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/x86/kernel_table.h"
#include "kernels/x86/int8_table.h"
#include "model/forward_reference.h"
#include "model/int8_plan.h"
#include "model/plan.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"

namespace squeezenet {

namespace {
// Plans kept per engine: enough for a few alternating input sizes without letting a stream of odd sizes
// pile up packed weights and buffers.
constexpr std::size_t kMaxPlans = 4;

template <class P, class Make>
P& plan_for(std::map<Shape, std::unique_ptr<P>>& plans, const Shape& shape, Make make) {
  auto it = plans.find(shape);
  if (it == plans.end()) {
    if (plans.size() >= kMaxPlans) plans.clear();
    it = plans.emplace(shape, make()).first;
  }
  return *it->second;
}
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
      kernels_(options.precision == Precision::int8 ? nullptr : kernels::fastest_kernels(options.precision)) {
  if (options.threads < 0)
    throw Error("engine: thread count must be 0 (one per core) or positive, got " + std::to_string(options.threads));
  if (precision_ == Precision::int8) {
    int8_kernels_ = x86::int8::fastest();
    quantized_ = quantization_or_synthetic(model);
  }
}

Engine::Engine(const Model& model, int threads) : Engine(model, EngineOptions{.threads = threads}) {}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

const char* Engine::kernel_family() const {
  if (precision_ == Precision::int8) return int8_kernels_ ? int8_kernels_->isa : "reference-int8";
  return kernels_ ? kernels_->family : "reference-fp32";
}

Tensor Engine::forward(const Tensor& input) {
  check_input(model_->config(), input.shape());
  Tensor logits({input.dim(0), model_->config().num_classes});
  forward(input.data(), input.shape(), logits.data());
  return logits;
}

void Engine::forward(const float* input, const Shape& shape, float* logits) {
  check_input(model_->config(), shape);
  if (precision_ == Precision::int8) {
    if (!int8_kernels_) {
      const Tensor out = forward_int8_reference(*quantized_, Tensor(shape, input));
      std::copy_n(out.data(), out.numel(), logits);
      return;
    }
    plan_for(int8_plans_, shape, [&] {
      return std::make_unique<QuantizedPlan>(*quantized_, shape, threads_, int8_kernels_);
    }).run(input, logits);
    return;
  }
  if (!kernels_) {
    const Tensor out = forward_reference(*model_, Tensor(shape, input));
    std::copy_n(out.data(), out.numel(), logits);
    return;
  }
  plan_for(plans_, shape, [&] { return std::make_unique<Plan>(*model_, shape, threads_, kernels_); }).run(input, logits);
}

}  // namespace squeezenet
