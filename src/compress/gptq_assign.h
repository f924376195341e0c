#pragma once
// Weight sharing's assignment by GPTQ (Frantar et al., 2022): the codebook is k-means', but each weight takes its
// code one at a time and the weights of its row not yet coded absorb the error, weighted by the conv's input second
// moments, so that the conv's output, not each weight, stays near the original. On the Deep-Compression weights at
// 6 bits this recovers most of what nearest assignment loses (README, "Deep Compression").
#include <vector>

#include "squeezenet/tensor.h"

namespace squeezenet {

// GPTQ's damping, as a fraction of the moments' mean diagonal.
inline constexpr double kGptqDamping = 0.01;

// Sets every weight of w [O, ...] (the weights before sharing) to a value of `codebook` (entry 0 = 0.0, the others
// non-zero and ascending) by GPTQ over `moments`, the [D, D] second moments of the conv's input in weight order
// (D = w.numel() / O): a non-zero weight takes the non-zero centroid nearest its value with the earlier error folded
// in, a zero stays zero, so pruned weights stay pruned and no other weight becomes zero. Weights already in the
// codebook do not move (their error is zero), so a layer shared losslessly stays as it is. With act_order, the
// weights whose inputs carry most are coded first (quant::Elimination). With a `move` (quant::InputMoments::fit_move,
// sequential fitting), each row is first moved to the optimum for the inputs the shared network gives the conv and
// then coded; the mask of zeros is still w's.
void assign_gptq(Tensor& w, const std::vector<float>& codebook, const std::vector<double>& moments,
                 bool act_order = true, const std::vector<double>& move = {});

// D, the weights per output channel of w [O, ...]; throws Error, `what` first, unless `moments` is [D, D].
std::size_t moments_row_length(const Tensor& w, const std::vector<double>& moments, const char* what);

// What replacing w by q costs at the conv's output: the sum over output channels of (w - q)^T H (w - q).
double output_error(const Tensor& w, const Tensor& q, const std::vector<double>& moments);

}  // namespace squeezenet
