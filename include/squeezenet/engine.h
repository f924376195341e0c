#pragma once
// The fast forward. An Engine prepares, per input shape, everything a forward needs (packed weights, buffers)
// and then runs without allocating. At fp32 it uses the AVX-512 or AVX2+FMA kernels where the CPU has them and
// the reference kernels elsewhere; all give the same logits to within 1e-4. Lower precisions trade that
// agreement for speed on the units built for them.
#include <map>
#include <memory>
#include <string>

#include "squeezenet/export.h"
#include "squeezenet/model.h"

namespace squeezenet SQUEEZENET_API {

class SQUEEZENET_INTERNAL Plan;
class SQUEEZENET_INTERNAL QuantizedPlan;
struct QuantizedModel;
namespace x86 {
struct KernelTable;
namespace int8 {
struct KernelTable;
}
}  // namespace x86

// The number format the convs compute in. bf16: weights and conv inputs rounded to bfloat16, sums in fp32.
// int8: quantized weights and activations, sums in int32.
enum class Precision { fp32, bf16, int8 };
std::string precision_name(Precision p);  // "fp32", "bf16", "int8"
// Throws Error naming the accepted values.
Precision parse_precision(const std::string& name);

struct EngineOptions {
  int threads = 0;  // 0: one per core (or OMP_NUM_THREADS)
  Precision precision = Precision::fp32;
};

class Engine {
 public:
  // `model` must outlive the engine and not change while it lives. An engine is for one thread at a time;
  // engines on the same model may run concurrently. Throws Error, in one line, when this CPU or build has no
  // kernels for the precision asked for. int8 runs the model's quantization (int8 weights files carry one);
  // an fp32 model is quantized here, calibrated on synthetic images (fine for timing; for accuracy, calibrate
  // on real images with quantize() or `squeezenet quantize`).
  explicit Engine(const Model& model, EngineOptions options);
  explicit Engine(const Model& model, int threads = 0);
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  // Eval-mode forward: [N, 3, H, W] -> [N, num_classes], like Model::forward. Results do not depend on the
  // thread count.
  Tensor forward(const Tensor& input);
  // The same on caller-owned memory: `input` holds numel_of(shape) floats, `logits` room for
  // shape[0] * num_classes. Front ends that hand out their own arrays (Python's numpy) use it to copy nothing.
  void forward(const float* input, const Shape& shape, float* logits);

  int threads() const { return threads_; }
  Precision precision() const { return precision_; }
  // The kernels in use: "avx512-fp32", "avx2-fp32", "avx512bf16", "avx512vnni-int8", "reference-fp32", ...
  const char* kernel_family() const;

 private:
  const Model* model_;
  int threads_;
  Precision precision_;
  const x86::KernelTable* kernels_;  // nullptr: the reference forward
  std::map<Shape, std::unique_ptr<Plan>> plans_;
  // int8 only.
  std::shared_ptr<const QuantizedModel> quantized_;
  const x86::int8::KernelTable* int8_kernels_ = nullptr;  // nullptr: the int8 reference forward
  std::map<Shape, std::unique_ptr<QuantizedPlan>> int8_plans_;
};

}  // namespace squeezenet
