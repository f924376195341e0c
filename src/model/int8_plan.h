#pragma once
// The int8 forward for one (quantized model, input shape, thread count), prepared once: weights packed for the
// int8 kernel family, one arena of u8 activations per worker. run() allocates nothing. Outputs are the same bits
// for every family and thread count (squeezenet/quantize.h defines them; forward_int8_reference computes them).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/x86/int8_table.h"
#include "kernels/x86/kept_fp32.h"
#include "model/step_profile.h"
#include "model/thread_team.h"
#include "squeezenet/quantize.h"

namespace squeezenet {

class QuantizedPlan {
 public:
  // `kernels`: a family this CPU runs (int8::families_here()), or nullptr for the fastest; needs AVX2.
  QuantizedPlan(const QuantizedModel& q, const Shape& input_shape, int threads,
                const x86::int8::KernelTable* kernels = nullptr);
  ~QuantizedPlan();
  QuantizedPlan(const QuantizedPlan&) = delete;
  QuantizedPlan& operator=(const QuantizedPlan&) = delete;

  // input: [N, 3, H, W] fp32 NCHW; logits: [N, num_classes]. An image holding a NaN or an infinity gets NaN logits.
  void run(const float* input, float* logits);

  const Shape& input_shape() const { return input_shape_; }
  const char* isa() const { return kernels_->isa; }
  int64_t packed_weight_bytes() const;
  // How many int8 convs run on Winograd, and of the others how many have weights whose pairs of quads fit one
  // 16-bit lane (PackedConv::quad_pairs_fit_16), whose pairs alone do (pairs_fit_16), and neither.
  struct Paths {
    int winograd = 0, quad_pairs_fit = 0, pairs_fit = 0, widened = 0;
  };
  Paths conv_paths() const;
  int64_t arena_bytes() const { return arena_bytes_; }

  // Per-step wall time of member 0's images (step_profile.h).
  void set_profiling(bool on) { profile_.set(on); }
  std::vector<StepTime> profile() const { return profile_.report(steps_); }

 private:
  // One worker's buffers: the quantized image, two activation buffers, one zero-bordered frame per squeeze shape
  // (its border is the 3x3 expand's padding), and the final conv's fp32 output.
  struct Lane {
    uint8_t* base;
  };
  // A step's work comes in `units` (pixels, rows or channels) cut on multiples of `align` between the members
  // sharing an image.
  struct Step {
    std::string name;
    int64_t macs, units, align;
    std::function<void(const Lane&, int64_t n, const float* image, float* logits, int64_t first, int64_t last)> run;
  };
  struct Builder;
  // `timed`: this worker stamps the clock around every step (one worker only).
  void run_image(int64_t n, const Lane& lane, const float* image, float* logits, int member, int members, bool timed);

  Shape input_shape_;
  int num_classes_ = 0, threads_ = 1;
  const x86::int8::KernelTable* kernels_;
  std::vector<std::unique_ptr<x86::int8::PackedConv>> convs_;
  std::vector<std::unique_ptr<x86::kept::PackedConv>> kept_;  // the convs kept in fp32
  std::vector<Step> steps_;
  std::vector<Lane> lanes_;
  int64_t arena_bytes_ = 0;
  std::unique_ptr<uint8_t[], void (*)(uint8_t*)> arena_{nullptr, nullptr};
  ThreadTeam team_;
  std::unique_ptr<std::atomic<bool>[]> nonfinite_;  // per image of a run
  StepProfile profile_;
};

}  // namespace squeezenet
