#pragma once
// The fast forward for one (model, input shape, thread count), prepared once: shapes worked out, weights
// repacked for the x86 kernels (AVX-512 where the CPU has it, else AVX2), one activation arena per worker.
// run() allocates nothing.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/x86/kernel_table.h"
#include "model/step_profile.h"
#include "model/thread_team.h"
#include "squeezenet/model.h"

namespace squeezenet {

class Plan {
 public:
  // Needs kernels::has_avx2_fma(). `threads` >= 1. The model is read only here: the plan keeps its own
  // packed copy of the weights. `kernels`: a family this CPU runs, or nullptr for the fastest.
  Plan(const Model& model, const Shape& input_shape, int threads, const x86::KernelTable* kernels = nullptr);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // input: [N, 3, H, W] NCHW floats of input_shape(); logits: [N, num_classes]. An image holding a NaN or an
  // infinity gets NaN logits, as in PyTorch (the fast ReLU would otherwise turn its NaNs into zeros).
  void run(const float* input_nchw, float* logits);

  const Shape& input_shape() const { return input_shape_; }
  int num_classes() const { return num_classes_; }
  int threads() const { return threads_; }
  const char* isa() const { return kernels_->isa; }
  // What the plan holds beside the model: the weights in the kernels' layouts (Winograd's are 16/9 or 4x the
  // kernel's), and the activations and scratch of all threads.
  int64_t packed_weight_bytes() const;
  int64_t arena_bytes() const { return arena_floats_ * static_cast<int64_t>(sizeof(float)); }

  // Per-step wall time (step_profile.h). While on, run() stamps the clock around every step (on the calling
  // thread; with the batch split between threads that is its own images).
  void set_profiling(bool on) { profile_.set(on); }
  std::vector<StepTime> profile() const { return profile_.report(steps_); }

 private:
  // One worker's activations: two NHWC buffers and the zero-bordered frame a Fire's squeeze writes into, so
  // that expand3x3 reads its padding without branches. Every Fire writes its output into `main`, whatever
  // buffer its input is in: the squeeze, a step before, is that input's last reader. Only what reads and writes
  // at once (the stem, a max-pool) goes from one buffer to the other, so `side` holds just the input image and
  // the pooled maps, a quarter of the largest Fire output or less. The bf16 families keep bf16 activations in
  // `main` and `side` (after the image), in half the room; sizes are counted in floats.
  struct Lane {
    float* buffer[3];
  };
  enum Buffer { main = 0, side = 1, frame = 2 };
  // What a step sees: the image, the lane holding its activations, and this thread's scratch.
  struct Context {
    const Lane& lane;
    const float* image;  // [3, H, W]
    float* logits;       // [num_classes]
    float* scratch;
    std::atomic<bool>* nonfinite;  // set when the image holds a NaN or an infinity
  };
  // A step's work comes in `chunks`, in spatial order. Threads sharing an image each own a contiguous share
  // of them, the same share of the image in every step, so that most of what a step reads is still in that
  // core's cache; a thread done with its share takes the rest of the others' (one the OS preempts then holds
  // up a chunk, not its share). A worker alone runs all the chunks in one call.
  struct Step {
    std::string name;
    int64_t macs;
    int64_t chunks;
    std::function<void(const Context&, int64_t first, int64_t last)> run;
  };

  // Claims on share u's chunks count up in claims_[u]. `tickets[u]` (the member's own row of tickets_, so that
  // run() allocates nothing): where that counter stood when this shared step began, the same for every member:
  // each step moves it by the share's size + threads, as every member's last claim on every share overshoots
  // by one.
  struct alignas(64) Counter {
    std::atomic<int64_t> next{0};
  };
  struct Builder;
  void run_image(int64_t n, const Lane& lane, const float* input, float* logits, float* scratch, int member,
                 bool shared, int64_t* tickets);

  Shape input_shape_;
  int num_classes_ = 0, threads_ = 1;
  const x86::KernelTable* kernels_;
  std::vector<std::unique_ptr<avx2::PackedConv>> convs_;
  std::vector<std::unique_ptr<avx2::PackedWinograd>> winograds_;
  std::vector<Step> steps_;
  int64_t buffer_floats_[3] = {0, 0, 0};
  std::vector<Lane> lanes_;
  int64_t scratch_floats_ = 0;  // per thread
  float* scratch_ = nullptr;
  int64_t arena_floats_ = 0;
  std::unique_ptr<float[], void (*)(float*)> arena_{nullptr, nullptr};
  ThreadTeam team_;
  std::unique_ptr<Counter[]> claims_;  // per share of a step's chunks
  Counter images_;                     // claims on the whole images of a run
  std::vector<int64_t> tickets_;       // member t's tickets at [t * threads, (t + 1) * threads)
  std::unique_ptr<std::atomic<bool>[]> nonfinite_;  // per image of a run
  StepProfile profile_;
};

}  // namespace squeezenet
