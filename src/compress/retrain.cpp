#include "compress/retrain.h"

#include <cmath>

#include "compress/codebook.h"
#include "squeezenet/error.h"
#include "squeezenet/train.h"
#include "train/loader.h"

namespace squeezenet {

namespace {
struct SharedLayer {
  std::string weight;
  std::vector<uint8_t> codes;
  std::vector<double> velocity;
};

// Row-wise softmax of [N, C] logits.
std::vector<double> softmax(const Tensor& logits, int64_t row) {
  const int64_t c = logits.dim(1);
  const float* x = logits.data() + row * c;
  double top = x[0], sum = 0;
  for (int64_t k = 1; k < c; ++k) top = std::max<double>(top, x[k]);
  std::vector<double> p(static_cast<std::size_t>(c));
  for (int64_t k = 0; k < c; ++k) sum += p[k] = std::exp(x[k] - top);
  for (double& v : p) v /= sum;
  return p;
}
}  // namespace

void tune_centroids(WeightFile& student, const Model& teacher, const std::vector<LabelledImage>& images,
                    const RetrainOptions& options, const std::function<void(int, double)>& progress) {
  // Dropout off: the student is to match the teacher's eval-mode outputs, and backward needs a training forward.
  const Model loaded = Model::from_weights(student, "the compressed weights");
  ModelConfig config = loaded.config();
  config.dropout = 0.0f;
  Model model(config);
  for (const std::string& name : model.parameter_names()) model.parameter(name) = loaded.parameter(name);
  std::vector<SharedLayer> layers;
  for (auto& [name, codebook] : student.codebooks)
    layers.push_back({name, codes_for(model.parameter(name), codebook), std::vector<double>(codebook.size(), 0.0)});
  std::vector<std::string> biases;
  for (const ConvRef& c : conv_layers(model.config())) biases.push_back(c.name + ".bias");
  Sgd bias_sgd({options.momentum, 0.0, 0.0, false});

  LabelledFolder folder;
  folder.images = images;
  train::LoaderOptions lo;
  lo.batch_size = options.batch_size;
  lo.augment = false;  // the teacher's outputs are cached per batch, so every epoch must see the same batches
  lo.preset = options.preset;
  train::BatchLoader loader(folder, lo);
  std::vector<Tensor> targets(static_cast<std::size_t>(loader.batches()));
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    loader.start_epoch(epoch);
    double loss_sum = 0;
    int64_t seen = 0;
    for (int64_t b = 0; b < loader.batches(); ++b) {
      const train::Batch batch = loader.next();
      const int64_t n = batch.images.dim(0);
      if (n == 0) continue;
      Tensor& target = targets[static_cast<std::size_t>(b)];
      if (target.empty()) target = teacher.forward(batch.images);
      Backprop bp(model);
      const Tensor logits = bp.forward(batch.images, true);
      Tensor grad(logits.shape());
      for (int64_t i = 0; i < n; ++i) {
        const auto p = softmax(logits, i), q = softmax(target, i);
        for (std::size_t k = 0; k < p.size(); ++k) {
          grad[i * logits.dim(1) + static_cast<int64_t>(k)] = static_cast<float>((p[k] - q[k]) / static_cast<double>(n));
          if (q[k] > 0) loss_sum += q[k] * (std::log(q[k]) - std::log(std::max(p[k], 1e-30)));
        }
      }
      seen += n;
      Gradients grads = zero_gradients(model);
      bp.backward(grad, grads);
      for (SharedLayer& l : layers) {
        std::vector<float>& codebook = student.codebooks.at(l.weight);
        std::vector<double> g(codebook.size(), 0.0);
        const Tensor& gw = grads.at(l.weight);
        for (std::size_t i = 0; i < l.codes.size(); ++i) g[l.codes[i]] += gw[static_cast<int64_t>(i)];
        for (std::size_t c = 1; c < codebook.size(); ++c) {
          l.velocity[c] = options.momentum * l.velocity[c] + g[c];
          const float moved = static_cast<float>(codebook[c] - options.lr * l.velocity[c]);
          if (moved != 0.0f) codebook[c] = moved;  // a zero entry would read as pruned
        }
        Tensor& w = model.parameter(l.weight);
        for (std::size_t i = 0; i < l.codes.size(); ++i) w[static_cast<int64_t>(i)] = codebook[l.codes[i]];
      }
      Gradients bias_grads;
      for (const std::string& b_name : biases) bias_grads[b_name] = std::move(grads.at(b_name));
      bias_sgd.step(model, bias_grads, options.lr);
    }
    if (progress) progress(epoch, seen ? loss_sum / static_cast<double>(seen) : 0.0);
  }
  for (const std::string& name : model.parameter_names()) student.tensors[name] = model.parameter(name);
}

}  // namespace squeezenet
