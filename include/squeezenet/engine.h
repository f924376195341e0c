#pragma once
// The fast forward. An Engine prepares, per input shape, everything a forward needs (packed weights, buffers)
// and then runs without allocating. It uses the AVX-512 or AVX2+FMA kernels where the CPU has them and the
// reference kernels elsewhere; all give the same logits to within 1e-4.
#include <map>
#include <memory>

#include "squeezenet/export.h"
#include "squeezenet/model.h"

namespace squeezenet SQUEEZENET_API {

class SQUEEZENET_INTERNAL Plan;

class Engine {
 public:
  // `model` must outlive the engine and not change while it lives. threads = 0: one per core (or
  // OMP_NUM_THREADS). An engine is for one thread at a time; engines on the same model may run concurrently.
  explicit Engine(const Model& model, int threads = 0);
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  // Eval-mode forward: [N, 3, H, W] -> [N, num_classes], like Model::forward. Results do not depend on the
  // thread count.
  Tensor forward(const Tensor& input);

  int threads() const { return threads_; }

 private:
  const Model* model_;
  int threads_;
  std::map<Shape, std::unique_ptr<Plan>> plans_;
};

}  // namespace squeezenet
