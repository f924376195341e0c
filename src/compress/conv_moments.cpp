#include "compress/conv_moments.h"

#include <map>

#include "quant/taps.h"
#include "squeezenet/error.h"
#include "train/loader.h"

namespace squeezenet {

quant::InputMoments conv_input_moments(const WeightFile& weights, const std::vector<LabelledImage>& images,
                                       Preset preset, int batch_size, const MomentsProgress& progress) {
  if (images.empty()) throw Error("GPTQ: no calibration images");
  const Model model = Model::from_weights(weights, "the weights to share");
  std::map<std::string, Conv2dSpec> specs;
  for (const ConvRef& c : conv_layers(model.config())) specs[c.name] = c.spec;
  LabelledFolder folder;
  folder.images = images;
  train::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.augment = false;
  lo.preset = preset;
  train::BatchLoader loader(folder, lo);
  loader.start_epoch(0);
  quant::InputMoments moments;
  int64_t done = 0;
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const train::Batch batch = loader.next();
    if (!batch.errors.empty()) throw Error(batch.errors.front());
    quant::forward_fp32_tapped(model, batch.images, [](const std::string&, const Tensor&) {},
                               [&](const std::string& conv, const Tensor& x) { moments.add(conv, specs.at(conv), x, x); });
    done += loader.images_in(b);
    if (progress) progress(done, static_cast<int64_t>(images.size()));
  }
  return moments;
}

}  // namespace squeezenet
