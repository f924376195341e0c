#pragma once
// SqueezeNet's `features` on NHWC maps, each image on one thread from start to end: the training path's fast
// lane. The forward runs the inference kernels of the widest ISA here (conv + ReLU fused, Winograd F(2x2, 3x3)
// for every expand 3x3, max-pool; a Fire's expand branches write their halves of the concatenation) and keeps
// what backward needs. The backward runs train/grad_kernels.h: no im2col but the stem's, no concat split, every
// ReLU folded into a pass that is needed anyway. Each image's weight gradients land in a slot of their own and
// are summed in image order, so results do not depend on the thread count.
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/x86/kernel_table.h"
#include "squeezenet/train.h"
#include "train/grad_kernels.h"

namespace squeezenet::train {

// The layers the fast lane runs: `features` up to a Dropout, which only the article's variant has there (it
// then runs layer by layer with the classifier).
bool in_fast_lane(const Layer& l);

// Whether the fast lane can run `model`'s features here: a CPU with AVX2 and FMA, and a layer list of unpadded
// convs each followed by a ReLU, 3x3 stride-2 max-pools and Fires.
bool fast_features_available(const Model& model);

class NhwcFeatures {
 public:
  // The model must outlive this object and keep its parameters between a forward and its backward.
  explicit NhwcFeatures(const Model& model);

  // [N, 3, H, W] -> the output of `features`, [N, C, h, w] NCHW. keep: hold what backward needs.
  Tensor forward(const Tensor& input, bool keep);

  // From d(loss)/d(output of features): adds the gradient of every features parameter into `grads`; returns
  // d(loss)/d(input) when need_input_grad, else an empty tensor.
  Tensor backward(const Tensor& output_grad, Gradients& grads, bool need_input_grad);

  using Floats = avx2::AlignedFloats;

 private:
  // A conv (with the ReLU after it), a max-pool or a Fire, with its shapes for the current input size.
  struct Step {
    const Layer* layer = nullptr;
    int in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
    int frame_h = 0, frame_w = 0;      // Fire: the squeeze output's frame, zero border included
    avx2::PackedConv conv, expand1x1;  // Conv2d: conv; Fire: conv is the squeeze
    avx2::PackedWinograd expand3x3;
    int64_t slot = 0;  // offset of this step's gradients in an image's slot
  };

  // One image's activations.
  struct Maps {
    Floats input;               // [H][W][3]
    std::vector<Floats> out;    // per step: its output, dense
    std::vector<Floats> frame;  // per Fire: its squeeze output inside the zero border
  };

  // A thread's working memory for the backward of one image.
  struct Scratch {
    Floats grad, next;  // the gradient flowing back, dense, and the one the step hands on
    Floats g1, g3;      // a Fire's expand gradients after their ReLU: dense, and in a zero-bordered frame
    Floats ds, cols;    // the squeeze's gradient; the stem's gathered inputs, then its input-gradient columns
  };

  // The backward's right-hand sides, repacked from the model's weights for every backward.
  struct StepPanels {
    Panels a, b, c;  // Fire: squeeze, expand1x1, expand3x3, flipped; Conv2d: a, when its input gradient is asked
  };

  void plan(int64_t height, int64_t width);
  void forward_image(const float* nchw, Maps& m, Floats& scratch) const;
  void backward_image(const float* grad_nchw, const Maps& m, float* slot, Scratch& s, float* input_grad_nchw) const;
  void fire_backward(const Step& s, const StepPanels& p, const float* x, const Floats& frame, const Floats& y,
                     float* slot, Scratch& t, bool need_dx) const;
  void conv_backward(const Step& s, const StepPanels& p, const float* x, const Floats& y, float* slot, Scratch& t,
                     bool need_dx) const;
  void add_slots(Gradients& grads, int64_t images);  // sums the slots into the first, then into grads

  const Model* model_;
  const x86::KernelTable* kernels_;  // the forward's: the inference kernels of the widest ISA here
  int64_t height_ = 0, width_ = 0;
  std::vector<Step> steps_;
  std::vector<StepPanels> panels_;
  std::vector<Maps> kept_;  // per image, from the last forward that kept them (more may wait for larger batches)
  int64_t kept_images_ = 0;
  std::vector<Maps> own_;                 // per thread, for forwards that keep nothing
  std::vector<Scratch> scratch_;          // per thread
  std::vector<Floats> winograd_scratch_;  // per thread
  std::vector<Floats> slots_;
  int64_t slot_floats_ = 0;
};

// The gradient buffer of a parameter, or an Error naming it.
Tensor& grad_of(Gradients& grads, const std::string& name);

// The forward alone, as frozen features need it: NhwcFeatures(model).forward(input, false).
Tensor fast_features(const Model& model, const Tensor& input);

}  // namespace squeezenet::train
