#include "compress/conv_moments.h"

#include <map>

#include "quant/taps.h"
#include "squeezenet/error.h"
#include "train/conv_gemm.h"
#include "train/loader.h"

namespace squeezenet {

namespace {
std::map<std::string, Conv2dSpec> conv_specs(const ModelConfig& config) {
  std::map<std::string, Conv2dSpec> specs;
  for (const ConvRef& c : conv_layers(config)) specs[c.name] = c.spec;
  return specs;
}

// Calls `batch` with each batch of `images`, preprocessed as eval does, then `progress`.
void for_each_batch(const std::vector<LabelledImage>& images, Preset preset, int batch_size,
                    const MomentsProgress& progress, const std::function<void(const Tensor&)>& batch) {
  if (images.empty()) throw Error("GPTQ: no calibration images");
  int64_t done = 0;
  train::for_each_eval_batch(images, preset, batch_size, [&](train::Batch&& next) {
    batch(next.images);
    done += next.images.dim(0);
    if (progress) progress(done, static_cast<int64_t>(images.size()));
  });
}

const quant::Tap kNoTap = [](const std::string&, const Tensor&) {};
}  // namespace

quant::InputMoments conv_input_moments(const WeightFile& weights, const std::vector<LabelledImage>& images,
                                       Preset preset, int batch_size, const MomentsProgress& progress) {
  const Model model = Model::from_weights(weights, "the weights to share");
  const std::map<std::string, Conv2dSpec> specs = conv_specs(model.config());
  quant::InputMoments moments;
  for_each_batch(images, preset, batch_size, progress, [&](const Tensor& batch) {
    quant::forward_fp32_tapped(
        model, batch, kNoTap, [&](const std::string& conv, const Tensor& x) { moments.add(conv, specs.at(conv), x, x); },
        train::conv2d_forward);
  });
  return moments;
}

SequentialMoments::SequentialMoments(const WeightFile& fp32, std::vector<LabelledImage> images, Preset preset,
                                     int batch_size, MomentsProgress progress)
    : fp32_(fp32), images_(std::move(images)), preset_(preset), batch_size_(batch_size), progress_(std::move(progress)) {
  if (images_.empty()) throw Error("GPTQ: no calibration images");
}

const quant::InputMoments& SequentialMoments::measure(const std::string& conv, const WeightFile& shared) {
  if (measured_.erase(conv)) return moments_;
  const Model fp32 = Model::from_weights(fp32_, "the weights to share");
  const Model partly_shared = Model::from_weights(shared, "the weights being shared");
  const std::map<std::string, Conv2dSpec> specs = conv_specs(fp32.config());
  std::set<std::string> wanted{conv};  // its last, in name order, is the last in forward order
  const std::string fire = conv.substr(0, conv.rfind('.'));
  if (conv == fire + ".expand1x1") wanted.insert(fire + ".expand3x3");
  moments_ = quant::InputMoments{};
  for_each_batch(images_, preset_, batch_size_, progress_, [&](const Tensor& batch) {
    std::map<std::string, Tensor> x;
    quant::forward_fp32_tapped(
        fp32, batch, kNoTap, [&](const std::string& name, const Tensor& in) { if (wanted.count(name)) x[name] = in; },
        train::conv2d_forward, *wanted.rbegin());
    quant::forward_fp32_tapped(
        partly_shared, batch, kNoTap,
        [&](const std::string& name, const Tensor& x_q) {
          if (wanted.count(name)) moments_.add(name, specs.at(name), x.at(name), x_q);
        },
        train::conv2d_forward, *wanted.rbegin());
  });
  wanted.erase(conv);
  measured_ = std::move(wanted);
  return moments_;
}

}  // namespace squeezenet
