#pragma once
// Post-training static int8 quantization. Every conv gets s8 weights with one symmetric scale per output
// channel and reads u8 activations with one scale per tensor: the image with zero point 128 (it is signed),
// everything after a ReLU with zero point 0. Each of a Fire's two expands has its own output scale; the conv reading
// the Fire's output reads it at expand3x3's scale, the ratio for expand1x1's channels folded into its int8 weights
// (quant::input_gains), so that the kernels read one u8 tensor at one scale. The final conv's output stays fp32
// (ReLU and average pool in fp32 give the logits). Calibration rounds the weights with GPTQ on the calibration
// images' activations and corrects each bias for the mean shift of its rounded weights.
//
// Arithmetic, the same on every kernel family (reference, AVX2, AVX-VNNI, AVX512-VNNI):
//   acc  = sum over taps and input channels of (x_u8 - zero_point) * w_s8, in int32 (padding reads zero_point)
//   u8   = round_half_even(clamp(fma(float(acc), multiplier[o], offset[o]), 0, 255))
//          multiplier = input_scale * weight_scale[o] / output_scale, offset = bias[o] / output_scale
//   fp32 = max(fma(float(acc), input_scale * weight_scale[o], bias[o]), 0)         (final conv)
//   image: u8 = round_half_even(clamp(fma(x, 1 / input_scale, 128), 0, 255))
// float(acc) rounds to nearest even, like cvtdq2ps; clamp(y, 0, 255) is (y > 0 ? y : 0) then (y < 255 ? y : 255),
// like maxps/minps.
//
// A conv kept in fp32 (mixed precision: the layers int8 hurts most) reads and writes the same u8 tensors at the
// same scales, so its neighbours do not change; only its own arithmetic is fp32:
//   x    = float(x_u8) * a[c]  folded into the weights: v[o][c][ky][kx] = w_fp32[o][c][ky][kx] * a[c], a[c] the scale
//          input channel c was written at (input_scale, or the expand's output_scale after a Fire); the kept stem
//          reads the fp32 image itself, v = w_fp32
//   y    = bias[o], then y = fma(x, v, y) over ky, kx, c in that order (padding reads 0); y = (y > 0 ? y : 0)
//   u8   = round_half_even(clamp(y * (1 / output_scale), 0, 255)), or y itself for the final conv
// Each output is one chain of fused multiply-adds in a fixed order, so every kernel family gives the same bits.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "squeezenet/model.h"

namespace squeezenet {

// How a per-tensor activation scale is chosen from the calibration images' histogram of that tensor. mse is the
// default: on the ImageNet sample it keeps int8 nearest fp32 (README, "INT8"); percentile and kl clip the rare large
// values of SqueezeNet's sparse post-ReLU maps, which decide the class.
enum class Calibration {
  minmax,      // the largest value seen
  percentile,  // the 99.99th percentile
  kl,          // the clipping threshold whose 8-bit histogram is nearest in KL divergence (TensorRT, ncnn)
  mse,         // the clipping threshold with the least expected squared error (exact zeros left out)
};
std::string calibration_name(Calibration c);
Calibration parse_calibration(const std::string& name);  // throws Error naming the accepted values

// What each conv's weights and bias are fitted to. sequential is the default: convs are quantized in forward order,
// each fitted (GPTQ, bias correction) so that the quantized network's inputs to it, rounded and carrying every earlier
// conv's error, give the fp32 network's output; independent fits each conv to the fp32 network's inputs, as before.
enum class Fitting { sequential, independent };
std::string fitting_name(Fitting f);
Fitting parse_fitting(const std::string& name);  // throws Error naming the accepted values

struct QuantizedConv {
  std::string name;  // "features.0", "features.3.squeeze", "classifier.1"
  Conv2dSpec spec;
  std::vector<int8_t> weight;       // [O, C, K, K], in [-127, 127]
  std::vector<float> weight_scale;  // [O]
  std::vector<float> bias;          // [O], fp32
  float input_scale = 1.0f;
  int input_zero_point = 0;   // 128 for the image, 0 after a ReLU
  float output_scale = 0.0f;  // 0: fp32 output (the final conv)
  std::vector<float> weight_fp32;  // [O, C, K, K] when kept in fp32; weight and weight_scale are then empty

  bool kept_fp32() const { return !weight_fp32.empty(); }
};

struct QuantizedModel {
  ModelConfig config;
  std::vector<QuantizedConv> convs;  // in forward order, as conv_layers(config)
  std::string calibration;           // how the scales were chosen, for the record

  const QuantizedConv& conv(const std::string& name) const;
};

// Quantizes the weights (GPTQ, bias-corrected) and calibrates the activation scales on `images` ([N, 3, H, W] batches, preprocessed
// as the model expects) with the fp32 reference forward; `fitting` says which inputs the weights and biases are fitted to
// (the int8 reference forward's, as far as it is built, when sequential). Throws Error when there are no images.
// The convs named in `keep_fp32` (as conv_layers names them) stay fp32; an unknown name throws Error.
// `weight_bits` 7 keeps the weights in [-63, 63]: CPUs with AVX2 but no VNNI then multiply every conv with
// vpmaddubsw, exactly (its pair sums cannot saturate), instead of widening to vpmaddwd; 6 keeps them in [-31, 31],
// where two quads' vpmaddubsw results add in 16 bits too (x86::int8::PackedConv::quad_pairs_fit_16); 2-8, else Error.
QuantizedModel quantize(const Model& model, const std::vector<Tensor>& images, Calibration rule,
                        const std::vector<std::string>& keep_fp32 = {}, Fitting fitting = Fitting::sequential,
                        int weight_bits = 8);

// Seeded noise images shaped like preprocessed photos: for timing without a calibration set (the scales are
// then not meant for accuracy).
std::vector<Tensor> synthetic_calibration_images(int count, int64_t size = 224);
// The model's own quantization (not owned: the model must outlive it), or one calibrated (minmax) on two synthetic
// images: what int8 runs on fp32 weights.
std::shared_ptr<const QuantizedModel> quantization_or_synthetic(const Model& model);

// Safetensors form: per conv P, P.weight (I8), P.weight_scale, P.bias, P.input_scale, P.output_scale (F32), and
// metadata quantization=int8, calibration, input_zero_point of features.0. A conv kept in fp32 has P.weight as F32,
// no P.weight_scale, and is listed in metadata keep_fp32 (comma-separated). from_quantized_weights checks
// every name, shape and value (scales positive and finite, weights in [-127, 127]). The fp32 weight an int8 one
// stands for is weight * weight_scale[o] * gain[c]: gain is 1, except in the conv after a Fire (the next squeeze,
// or the final conv), where it is P.input_scale / expand1x1.output_scale for the channels expand1x1 wrote and
// P.input_scale / expand3x3.output_scale (1 as written by quantize) for the others.
WeightFile to_weights(const QuantizedModel& q, const std::map<std::string, std::string>& metadata = {});
bool is_quantized(const WeightFile& weights);
QuantizedModel from_quantized_weights(const WeightFile& weights, const std::string& origin);
// The fp32 model the quantized weights stand for (weight = q * scale), so that a quantized file also runs in fp32.
Model dequantized_model(const QuantizedModel& q);

// The int8 forward with the reference kernels: the definition every fast family must match bit for bit.
Tensor forward_int8_reference(const QuantizedModel& q, const Tensor& input);

}  // namespace squeezenet
