// squeezenet.finetune: the library's training run (the one `squeezenet finetune` makes), with progress reported
// to a Python callback.
#include <omp.h>
#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/pybind11.h>

#include <optional>

#include "convert.h"
#include "model.h"
#include "squeezenet/dataset.h"
#include "squeezenet/error.h"
#include "train/trainer.h"

namespace squeezenet::python {

namespace {

struct FinetuneResult {
  std::shared_ptr<PyModel> model;
  double best_val_acc = 0.0;
  int best_epoch = -1;
  bool interrupted = false;
  int skipped_images = 0;
};

py::dict progress_dict(const train::TrainProgress& p) {
  py::dict d;
  d["epoch"] = p.epoch, d["epochs"] = p.epochs, d["batch"] = p.batch, d["batches"] = p.batches;
  d["loss"] = p.loss, d["acc"] = p.acc, d["images_per_s"] = p.images_per_s, d["lr"] = p.lr;
  d["epoch_done"] = p.epoch_done;
  if (p.epoch_done) d["val_loss"] = p.val_loss, d["val_acc"] = p.val_acc;
  return d;
}

FinetuneResult finetune(const py::object& weights, const py::object& data, const py::object& out,
                        std::optional<int> classes, int epochs, int batch_size, double lr, double momentum,
                        double weight_decay, const std::string& freeze, const std::optional<std::string>& preset,
                        uint64_t seed, int workers, int threads, int max_steps, const py::object& progress) {
  const auto path = [](const py::object& p) { return py::module_::import("os").attr("fsdecode")(p).cast<std::string>(); };
  if (freeze != "none" && freeze != "features")
    throw Error("freeze takes 'features' or 'none', not '" + freeze + "'");
  if (threads < 0) throw Error("threads must be 0 (one per core) or positive, got " + std::to_string(threads));
  if (!progress.is_none() && !PyCallable_Check(progress.ptr())) throw py::type_error("progress must be callable");
  train::TrainOptions o;
  o.train_dir = path(data) + "/train";
  o.val_dir = path(data) + "/val";
  o.out_dir = path(out);
  o.epochs = epochs, o.batch_size = batch_size, o.workers = workers, o.seed = seed, o.max_steps = max_steps;
  o.schedule.base_lr = lr;
  o.sgd.momentum = momentum, o.sgd.weight_decay = weight_decay;
  o.classifier_only = freeze == "features";
  o.progress = progress.is_none();
  if (!progress.is_none())
    o.on_progress = [&progress](const train::TrainProgress& p) {
      py::gil_scoped_acquire locked;
      progress(progress_dict(p));
    };
  const std::string weights_path = path(weights);

  FinetuneResult result;
  Preset trained_with = Preset::torchvision;
  {
    py::gil_scoped_release unlocked;
    // The OpenMP setting is the calling thread's and would outlive the call: put it back after.
    struct RestoreThreads {
      int n;
      ~RestoreThreads() { omp_set_num_threads(n); }
    } const restore{omp_get_max_threads()};
    if (threads > 0) omp_set_num_threads(threads);
    const int outputs = classes ? *classes : static_cast<int>(scan_labelled_folder(o.train_dir).class_names.size());
    Model model = train::pretrained_for_finetune(weights_path, outputs, seed, trained_with);
    o.preset = to_preset(preset, trained_with);
    const train::TrainResult r = train::train(model, o);
    result.model = std::make_shared<PyModel>(Classifier(std::move(model), o.preset, threads));
    result.best_val_acc = r.best_val_acc, result.best_epoch = r.best_epoch, result.interrupted = r.interrupted;
    result.skipped_images = r.skipped_images;
  }
  return result;
}

}  // namespace

void bind_finetune(py::module_& m) {
  py::class_<FinetuneResult>(m, "FinetuneResult", "What squeezenet.finetune returns.")
      .def_readonly("model", &FinetuneResult::model, "The model after the last step (the best one is out/best.safetensors)")
      .def_readonly("best_val_acc", &FinetuneResult::best_val_acc, "Best validation accuracy of the run, 0..1")
      .def_readonly("best_epoch", &FinetuneResult::best_epoch, "The epoch that reached it, from 1")
      .def_readonly("interrupted", &FinetuneResult::interrupted,
                    "True when the run stopped early (Ctrl-C or max_steps); resume with the CLI's --resume")
      .def_readonly("skipped_images", &FinetuneResult::skipped_images, "Images that could not be read")
      .def("__repr__", [](const FinetuneResult& r) {
        return "FinetuneResult(best_val_acc=" + std::to_string(r.best_val_acc) +
               ", best_epoch=" + std::to_string(r.best_epoch) + ", interrupted=" + (r.interrupted ? "True" : "False") +
               ")";
      });
  m.def("finetune", &finetune, py::arg("weights"), py::arg("data"), py::arg("out"), py::kw_only(),
        py::arg("classes") = py::none(), py::arg("epochs") = 15, py::arg("batch_size") = 8, py::arg("lr") = 0.001,
        py::arg("momentum") = 0.9, py::arg("weight_decay") = 0.0, py::arg("freeze") = "features",
        py::arg("preset") = py::none(), py::arg("seed") = 0, py::arg("workers") = 2, py::arg("threads") = 0,
        py::arg("max_steps") = 0, py::arg("progress") = py::none(),
        R"(Fine-tunes pretrained weights on an image folder, as `squeezenet finetune` does.

weights: any format squeezenet.load reads. data: a folder with train/ and val/ ImageFolders (one subfolder per
class). out: gets checkpoint.safetensors, best.safetensors, metrics.csv and curves.png.
classes: outputs (default: the number of class folders); when they differ from the weights', the final conv
is replaced by a new one (N(0, 0.01), bias 0). freeze: 'features' trains only the final conv, 'none' every
layer. SGD with momentum at a fixed learning rate; preset: the preprocessing (default: the weights').
max_steps > 0 stops after that many SGD steps. progress(p) is called after every batch and every epoch with a
dict: epoch, epochs, batch, batches, loss, acc, images_per_s, lr, epoch_done, and after an epoch val_loss and
val_acc; without it a progress bar goes to stderr. An exception raised by progress ends the run and propagates.
Ctrl-C stops the run after the step in progress, with a checkpoint.)");
}

}  // namespace squeezenet::python
