#pragma once
// Weight rounding that sees the inputs (GPTQ: Frantar et al., 2022, after Optimal Brain Quantization): each output
// channel's weights are rounded one at a time and the ones not yet rounded absorb the error, weighted by the
// inverse of the conv's input second moments over the calibration images. Rounding to nearest treats every weight
// alone; here the output error, not the weight error, is what is kept small.
// Sequential calibration fits each conv to the inputs the quantized network gives it (X_q, rounded and carrying every
// earlier layer's error) while the target stays the fp32 network's output W X: the float optimum of
// ||W X - W' X_q||^2 is W X X_q^T (X_q X_q^T)^-1, and GPTQ then rounds it on X_q X_q^T.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "squeezenet/quantize.h"

namespace squeezenet::quant {

// GPTQ's elimination over one conv's inputs, shared by every rounding rule (int8's grid, a shared codebook). Built
// from the inputs' second moments [n, n], damped by `damping` x their mean diagonal (an input never seen, of zero
// moment, by 1) so that the inverse is well conditioned. With act_order the weights are rounded in descending order
// of their input's second moment (Frantar et al.'s "act-order"): the inputs that carry most go first, while the
// most weights are left to absorb their error.
class Elimination {
 public:
  Elimination(std::vector<double> moments, std::size_t n, double damping, bool act_order);
  // Rounds `row` (n weights in input order) in place, one weight at a time in the elimination order: round(i, v)
  // gives the value weight i becomes from its current v, and the weights not rounded yet absorb the error. Where
  // the moments are not positive definite, each weight is rounded alone.
  void run(std::vector<double>& row, const std::function<double(std::size_t, double)>& round) const;
  // Prunes `row` in place to `density` of its weights, as SparseGPT does (Frantar & Alistarh, 2023): in blocks of
  // `block` weights in the elimination order, those whose removal costs the output least given the weights before
  // them (w^2 / U_kk^2) become zero, and the weights not eliminated yet absorb the error; kept weights keep their
  // value as updated. Zeros already there, and weights of inputs never seen (zero moment), cost nothing and
  // go first; the zeros stay zero.
  void prune(std::vector<double>& row, double density, std::size_t block = 128) const;

 private:
  // The k-th weight in elimination order becomes q: the weights after it take back the error at the output.
  void absorb(std::vector<double>& row, std::size_t k, double q) const;

  std::size_t n_;
  std::vector<std::size_t> order_;  // input index of the k-th weight eliminated
  std::vector<double> upper_;       // [n, n] upper Cholesky factor of the damped inverse, in elimination order
  std::vector<bool> seen_;          // the k-th weight's input has a non-zero moment
  bool factored_ = false;
};

class InputMoments {
 public:
  // x: the [N, C, H, W] tensor conv `spec` reads in the fp32 network, x_q the same in the quantized one (dequantized;
  // the same object as x when fitting to fp32 inputs); at most kPixels output positions an image are sampled.
  void add(const std::string& conv, const Conv2dSpec& spec, const Tensor& x, const Tensor& x_q);
  // s8 weights per output channel (symmetric, the channel's largest |w / gain| at `levels`: 127 for 8 bits, 63 for
  // 7) of w / gain[c], gains as quant::input_gains (empty: all 1), into q.weight and q.weight_scale. With x_q apart
  // from x, w is first moved to the float optimum for x_q, damped towards w (ridge regression, kFitDamping).
  void quantize(const Tensor& w, const std::vector<float>& gains, QuantizedConv& q, int levels = 127) const;
  // The mean of x_q x_q^T over the sampled positions of `conv`, [D, D] in weight order (c, kh, kw).
  std::vector<double> moments(const std::string& conv) const;
  // The ridge move of the weights to the float optimum for x_q: M [D, D] such that each output channel's weights w
  // (input order) become w + w M (apply_move). `moments` are moments(conv) with input i scaled by gain(i) (int8's
  // input gains; 1 when there are none), and x's cross moments are scaled the same. Empty when x_q is x (nothing
  // to move) or the damped moments do not invert.
  std::vector<double> fit_move(const std::string& conv, const std::vector<double>& moments,
                               const std::function<double(std::size_t)>& gain) const;

  static constexpr int64_t kPixels = 1024;
  // The pull of the fitted weights towards w, as a fraction of the mean diagonal of the input moments.
  static constexpr double kFitDamping = 3.0;

 private:
  struct Sums {
    std::vector<double> xx;     // [D, D] of x_q x_q^T, D = C * K * K in weight order; upper triangle
    std::vector<double> cross;  // [D, D] of x x_q^T; empty while x_q is x
    double count = 0;
  };
  std::map<std::string, Sums> sums_;
};

// row = w + w move (fit_move's M; row = w when move is empty).
void apply_move(const std::vector<double>& move, const std::vector<double>& w, std::vector<double>& row);

}  // namespace squeezenet::quant
