#pragma once
// Training and fine-tuning: a training-mode forward that keeps what backward needs, the backward of every
// layer, cross-entropy, torch.optim.SGD and the usual learning-rate schedules. Gradients and updates match
// PyTorch's to float rounding.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "squeezenet/export.h"
#include "squeezenet/model.h"

namespace squeezenet SQUEEZENET_API {

using Gradients = std::map<std::string, Tensor>;  // parameter name -> gradient of the same shape

namespace train {
class SQUEEZENET_INTERNAL NhwcFeatures;
}

// Zero gradients for the parameters of `model` that are trained when `classifier_only` (the new head of a
// feature-extraction fine-tune) or all of them.
Gradients zero_gradients(const Model& model, bool classifier_only = false);

// One training step's worth of state for one model: forward in training mode (dropout drawn from `seed`),
// then backward from the gradient of the logits. The model must outlive it and not change between the two.
class Backprop {
 public:
  // reference_kernels: the plain-loop backward everywhere (slow; for tests). classifier_only: backward stops
  // at the final conv and the features keep no activations.
  explicit Backprop(const Model& model, bool classifier_only = false, bool reference_kernels = false);
  ~Backprop();

  // [N, 3, H, W] -> logits [N, num_classes]. training = false makes dropout the identity. Sample n's dropout
  // masks depend only on `dropout_seed` and samples[n] (default n), not on the batch it is in.
  Tensor forward(const Tensor& input, bool training, uint64_t dropout_seed = 0,
                 std::span<const uint64_t> samples = {});
  // Adds d(loss)/d(parameter) into `grads` (which names what is trained). Returns d(loss)/d(input) when
  // need_input_grad (gradient checks), else an empty tensor.
  Tensor backward(const Tensor& logits_grad, Gradients& grads, bool need_input_grad = false);

 private:
  const Model* model_;
  bool classifier_only_, reference_;
  std::vector<Tensor> acts_;   // acts_[i]: input of layer i, kept where backward needs it
  std::vector<Tensor> saved_;  // per layer: a Fire's squeeze output, a Dropout's scaled mask
  std::unique_ptr<train::NhwcFeatures> features_;  // the fast lane of `features`, where it runs
  std::size_t first_ = 0;                          // the first layer the layer-by-layer path ran
};

struct LossResult {
  double loss = 0.0;  // mean over the batch
  int correct = 0;    // top-1 hits
  Tensor grad;        // d(loss)/d(logits), already divided by the batch size and by `scale`
};
// nn.CrossEntropyLoss(label_smoothing=eps), mean reduction: (1 - eps) * NLL + eps * mean_k(-log p_k).
// `scale` divides the gradient (gradient accumulation over iter_size micro-batches). Labels are checked.
LossResult cross_entropy(const Tensor& logits, const std::vector<int>& labels, float label_smoothing = 0.0f,
                         float scale = 1.0f);

struct SgdOptions {
  double momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false;
};

// torch.optim.SGD, step for step: d = g + wd * p; buf = momentum * buf + (1 - dampening) * d (buf = d on the
// first step); d = nesterov ? d + momentum * buf : buf; p -= lr * d. Per-parameter learning-rate multipliers
// make parameter groups (a new classifier at 10x, a backbone at 0.1x).
class Sgd {
 public:
  explicit Sgd(SgdOptions options) : options_(options) {}
  void set_lr_mult(const std::string& name, double mult) { lr_mult_[name] = mult; }
  double lr_mult(const std::string& name) const;
  // Updates the parameters named in `grads`.
  void step(Model& model, const Gradients& grads, double lr);
  // The momentum buffers, by parameter name: a checkpoint saves and restores them.
  std::map<std::string, Tensor>& momentum_buffers() { return buffers_; }

 private:
  SgdOptions options_;
  std::map<std::string, double> lr_mult_;
  std::map<std::string, Tensor> buffers_;
};

enum class LrPolicy { fixed, poly, step, cosine };
LrPolicy parse_lr_policy(const std::string& name);

// Learning rate at iteration `step` of `total_steps`, after a linear warm-up from 0 over `warmup_steps`:
//   fixed: base; poly (Caffe): base * (1 - step / total)^power; step: base * gamma^(step / step_size);
//   cosine: base * (1 + cos(pi * step / total)) / 2.
struct LrSchedule {
  LrPolicy policy = LrPolicy::fixed;
  double base_lr = 0.01, power = 1.0, gamma = 0.1;
  int64_t step_size = 1, total_steps = 1, warmup_steps = 0;
  double lr_at(int64_t step) const;
};

// A copy of `model` whose final conv has `classes` outputs, initialised as torchvision does for a new head:
// weight N(0, 0.01), bias 0, from `seed`.
Model with_new_classifier(const Model& model, int classes, uint64_t seed);

// `model` with other dropout probabilities: the classifier's and the one at the end of `features` (0: no such
// layer). Weights files do not record them, so a run sets them again on the models it loads.
Model with_dropout(const Model& model, float classifier_p, float features_p);

}  // namespace squeezenet
