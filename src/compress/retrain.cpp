#include "compress/retrain.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "compress/codebook.h"
#include "compress/reassign.h"
#include "squeezenet/error.h"
#include "squeezenet/train.h"
#include "train/loader.h"

namespace squeezenet {

namespace {
// Adam (Kingma & Ba) over one flat group of parameters. Centroid gradients sum thousands of weight gradients
// in one layer and a handful in another; Adam's per-parameter scale makes one learning rate fit them all.
struct Adam {
  std::vector<double> m, v;
  int64_t t = 0;
  explicit Adam(std::size_t n) : m(n, 0.0), v(n, 0.0) {}
  // The step for parameter i, given its gradient; call next() once per optimiser step first.
  void next() { ++t; }
  double step(std::size_t i, double g, double lr) {
    constexpr double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    const double mh = m[i] / (1 - std::pow(b1, static_cast<double>(t)));
    const double vh = v[i] / (1 - std::pow(b2, static_cast<double>(t)));
    return lr * mh / (std::sqrt(vh) + eps);
  }
};

// Softmax of row `row` of [N, C] logits at temperature T.
std::vector<double> softmax(const Tensor& logits, int64_t row, double T) {
  const int64_t c = logits.dim(1);
  const float* x = logits.data() + row * c;
  double top = x[0], sum = 0;
  for (int64_t k = 1; k < c; ++k) top = std::max<double>(top, x[k]);
  std::vector<double> p(static_cast<std::size_t>(c));
  for (int64_t k = 0; k < c; ++k) sum += p[k] = std::exp((x[k] - top) / T);
  for (double& v : p) v /= sum;
  return p;
}

// d(loss)/d(logits) of (1 - a) * T^2 * KL(teacher_T || student_T) + a * CE(labels), a = label_weight where
// there are labels; adds the loss summed over the batch to `loss`.
Tensor loss_grad(const Tensor& logits, const Tensor& teacher, const std::vector<int>* labels,
                 const RetrainOptions& o, double& loss) {
  const int64_t n = logits.dim(0), c = logits.dim(1);
  const double T = o.temperature, a = labels ? o.label_weight : 0.0;
  Tensor grad(logits.shape());
  for (int64_t i = 0; i < n; ++i) {
    const auto p = softmax(logits, i, T), q = softmax(teacher, i, T);
    const auto p1 = labels ? softmax(logits, i, 1.0) : p;
    const int y = labels ? (*labels)[static_cast<std::size_t>(i)] : -1;
    for (int64_t k = 0; k < c; ++k) {
      const double kd = T * (p[k] - q[k]), ce = labels ? p1[k] - (k == y) : 0.0;
      grad[i * c + k] = static_cast<float>(((1 - a) * kd + a * ce) / static_cast<double>(n));
      if (q[k] > 0) loss += (1 - a) * T * T * q[k] * (std::log(q[k]) - std::log(std::max(p[k], 1e-30)));
    }
    if (labels) loss -= a * std::log(std::max(p1[static_cast<std::size_t>(y)], 1e-30));
  }
  return grad;
}

// The student as a trainable model: dropout off, since it is to match the teacher's eval-mode outputs and
// backward needs a training forward.
Model trainable(const WeightFile& student) {
  const Model loaded = Model::from_weights(student, "the compressed weights");
  ModelConfig config = loaded.config();
  config.dropout = 0.0f;
  Model model(config);
  for (const std::string& name : model.parameter_names()) model.parameter(name) = loaded.parameter(name);
  return model;
}

// Calls `train` on every batch of epoch `epoch` with the images, the teacher's logits on them and the labels
// (null where distilled only); returns the number of images.
int64_t for_each_batch(const TuningData& data, int epoch,
                       const std::function<void(const Tensor&, const Tensor&, const std::vector<int>*)>& train) {
  if (data.fixed) {
    const TuningSet& set = *data.fixed;
    for (std::size_t b = 0; b < set.images.size(); ++b)
      train(set.images[b], set.teacher[b], set.labels.empty() ? nullptr : &set.labels[b]);
    return set.count;
  }
  const AugmentedTuning& a = *data.augmented;
  train::LoaderOptions lo;
  lo.batch_size = a.batch_size;
  lo.preset = a.preset;
  lo.seed = a.seed;
  train::BatchLoader loader(a.folder, lo);
  loader.start_epoch(epoch);
  int64_t count = 0;
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const train::Batch batch = loader.next();
    if (!batch.errors.empty()) throw Error(batch.errors.front());
    count += batch.images.dim(0);
    train(batch.images, a.teacher->forward(batch.images), a.labelled ? &batch.labels : nullptr);
  }
  return count;
}

// Epochs over the data; after each batch's backward `update` applies the gradients to `model`.
void run(Model& model, const TuningData& data, const RetrainOptions& o, const std::function<void(Gradients&)>& update,
         const RetrainProgress& progress) {
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    double loss = 0;
    const int64_t count = for_each_batch(data, o.first_epoch + epoch, [&](const Tensor& images, const Tensor& teacher,
                                                                          const std::vector<int>* labels) {
      Backprop bp(model);
      const Tensor logits = bp.forward(images, true);
      const Tensor grad = loss_grad(logits, teacher, labels, o, loss);
      Gradients grads = zero_gradients(model);
      bp.backward(grad, grads);
      update(grads);
    });
    if (progress) progress(epoch, count ? loss / static_cast<double>(count) : 0.0);
  }
}

std::vector<std::string> bias_names(const Model& model) {
  std::vector<std::string> out;
  for (const ConvRef& c : conv_layers(model.config())) out.push_back(c.name + ".bias");
  return out;
}

// Moves every parameter of `names` by Adam, keeping zeros zero where `masked` (a weight is pruned for good)
// and never letting a surviving value reach zero (it would read as pruned).
struct ParameterGroup {
  std::vector<std::string> names;
  bool masked;
  std::vector<Adam> adam;
  ParameterGroup(const Model& model, std::vector<std::string> n, bool m) : names(std::move(n)), masked(m) {
    for (const std::string& name : names) adam.emplace_back(static_cast<std::size_t>(model.parameter(name).numel()));
  }
  void step(Model& model, const Gradients& grads, double lr) {
    for (std::size_t j = 0; j < names.size(); ++j) {
      Tensor& p = model.parameter(names[j]);
      const Tensor& g = grads.at(names[j]);
      adam[j].next();
      for (int64_t i = 0; i < p.numel(); ++i) {
        if (masked && p[i] == 0.0f) continue;
        const auto moved = static_cast<float>(p[i] - adam[j].step(static_cast<std::size_t>(i), g[i], lr));
        if (!masked || moved != 0.0f) p[i] = moved;
      }
    }
  }
};
}  // namespace

LabelledFolder scan_tuning_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool flat = fs::is_directory(dir, ec), wnids = true;
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; flat && !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    flat = !it->is_directory(ec2);
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(ec2) && has_image_extension(name)) {
      files.push_back(it->path().string());
      wnids &= name.size() > 9 && name[0] == 'n' &&
               std::all_of(name.begin() + 1, name.begin() + 9, [](char c) { return c >= '0' && c <= '9'; });
    }
  }
  if (!flat || ec || files.empty() || wnids) return scan_labelled_folder(dir);
  std::sort(files.begin(), files.end());
  LabelledFolder out;
  out.layout = "unlabelled";
  for (std::string& f : files) out.images.push_back({std::move(f), -1});
  return out;
}

namespace {
bool uses_labels(const Model& teacher, const std::vector<LabelledImage>& images, bool labelled) {
  for (const LabelledImage& image : images) labelled &= image.label >= 0 && image.label < teacher.config().num_classes;
  return labelled;
}
}  // namespace

TuningSet make_tuning_set(const Model& teacher, const std::vector<LabelledImage>& images, bool labelled,
                          int batch_size, Preset preset) {
  labelled = uses_labels(teacher, images, labelled);
  TuningSet set;
  train::for_each_eval_batch(images, preset, batch_size, [&](train::Batch&& batch) {
    set.count += batch.images.dim(0);
    set.teacher.push_back(teacher.forward(batch.images));
    set.images.push_back(std::move(batch.images));
    if (labelled) set.labels.push_back(std::move(batch.labels));
  });
  return set;
}

AugmentedTuning make_augmented_tuning(const Model& teacher, const std::vector<LabelledImage>& images, bool labelled,
                                      int batch_size, Preset preset, uint64_t seed) {
  if (images.empty()) throw Error("no images to tune on");
  AugmentedTuning a;
  a.folder.images = images;
  a.teacher = &teacher;
  a.labelled = uses_labels(teacher, images, labelled);
  a.batch_size = batch_size;
  a.preset = preset;
  a.seed = seed;
  return a;
}

void tune_weights(WeightFile& student, const TuningData& data, const RetrainOptions& options,
                  const RetrainProgress& progress) {
  Model model = trainable(student);
  std::vector<std::string> weights;
  for (const ConvRef& c : conv_layers(model.config())) weights.push_back(c.name + ".weight");
  ParameterGroup w(model, weights, true), b(model, bias_names(model), false);
  run(model, data, options, [&](Gradients& g) {
    w.step(model, g, options.lr);
    b.step(model, g, options.lr);
  }, progress);
  for (const std::string& name : model.parameter_names()) student.tensors[name] = model.parameter(name);
  student.codebooks.clear();
}

void tune_centroids(WeightFile& student, const TuningData& data, const RetrainOptions& options,
                    const RetrainProgress& progress, const CodeTuning* codes) {
  Model model = trainable(student);
  const bool reassign = codes && codes->every > 0 && codes->shadow;
  struct Shared {
    std::string weight;
    std::vector<uint8_t> codes;
    Adam adam;
    Tensor shadow;
    Adam shadow_adam;
    double entropy_weight;
  };
  std::vector<Shared> layers;
  for (auto& [name, codebook] : student.codebooks) {
    Shared l{name, codes_for(model.parameter(name), codebook), Adam(codebook.size()), {}, Adam(0), 0.0};
    if (reassign) {
      l.shadow = codes->shadow->tensors.at(name);
      l.shadow_adam = Adam(static_cast<std::size_t>(l.shadow.numel()));
      const std::string conv = name.substr(0, name.size() - std::string(".weight").size());
      if (auto e = codes->entropy_weight.find(conv); e != codes->entropy_weight.end()) l.entropy_weight = e->second;
    }
    layers.push_back(std::move(l));
  }
  ParameterGroup b(model, bias_names(model), false);
  int64_t steps = 0;
  run(model, data, options, [&](Gradients& grads) {
    ++steps;
    for (Shared& l : layers) {
      std::vector<float>& codebook = student.codebooks.at(l.weight);
      std::vector<double> g(codebook.size(), 0.0), moved_by(codebook.size(), 0.0);
      const Tensor& gw = grads.at(l.weight);
      for (std::size_t i = 0; i < l.codes.size(); ++i) g[l.codes[i]] += gw[static_cast<int64_t>(i)];
      l.adam.next();
      for (std::size_t c = 1; c < codebook.size(); ++c) {
        const auto moved = static_cast<float>(codebook[c] - l.adam.step(c, g[c], options.lr));
        if (moved == 0.0f) continue;  // a zero entry would read as pruned
        moved_by[c] = double(moved) - codebook[c];
        codebook[c] = moved;
      }
      if (reassign) {
        l.shadow_adam.next();
        for (std::size_t i = 0; i < l.codes.size(); ++i) {
          if (l.codes[i] == 0) continue;
          const auto j = static_cast<int64_t>(i);
          l.shadow[j] = static_cast<float>(l.shadow[j] + moved_by[l.codes[i]] - l.shadow_adam.step(i, gw[j], codes->lr));
        }
        if (steps % codes->every == 0) reassign_codes(l.shadow, codebook, l.codes, l.entropy_weight);
      }
      Tensor& w = model.parameter(l.weight);
      for (std::size_t i = 0; i < l.codes.size(); ++i) w[static_cast<int64_t>(i)] = codebook[l.codes[i]];
    }
    b.step(model, grads, options.lr);
  }, progress);
  if (reassign)
    for (Shared& l : layers) {
      std::vector<float>& codebook = student.codebooks.at(l.weight);
      compact_codebook(codebook, l.codes);
      Tensor& w = model.parameter(l.weight);
      for (std::size_t i = 0; i < l.codes.size(); ++i) w[static_cast<int64_t>(i)] = codebook[l.codes[i]];
    }
  for (const std::string& name : model.parameter_names()) student.tensors[name] = model.parameter(name);
}

}  // namespace squeezenet
