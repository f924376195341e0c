// The `squeezenet._core` extension: the Python front end over the library, as the CLI is the command-line one.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "convert.h"
#include "model.h"
#include "squeezenet/classifier.h"
#include "squeezenet/error.h"
#include "squeezenet/weights.h"
#include "squeezenet/version.h"

namespace squeezenet::python {

void bind_finetune(py::module_& m);

namespace {

std::string fspath(const py::handle& p) { return py::module_::import("os").attr("fsdecode")(p).cast<std::string>(); }

std::shared_ptr<PyModel> load(const py::object& path, const std::optional<std::string>& preset, int threads) {
  const std::string file = fspath(path);
  std::optional<Preset> chosen;
  if (preset) chosen = parse_preset(*preset);
  py::gil_scoped_release unlocked;
  return std::make_shared<PyModel>(Classifier::load(file, chosen, threads));
}

py::array_t<float> preprocess_image(const py::handle& image, const std::string& preset) {
  const Preset p = parse_preset(preset);
  const Image decoded = to_image(image);
  Tensor input;
  {
    py::gil_scoped_release unlocked;
    input = preprocess(decoded, p);
  }
  return to_numpy(std::move(input));
}

// A state_dict (name -> array-like) becomes a Model, checked as every weights file is: exact names and shapes,
// finite values.
Model model_of(const py::dict& state_dict, const std::string& preset) {
  WeightFile wf;
  for (const auto& [key, value] : state_dict) {
    const auto name = py::str(key).cast<std::string>();
    const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(value);
    if (!a) throw Error("state_dict['" + name + "'] is not an array of numbers");
    wf.tensors.emplace(name, Tensor(Shape(a.shape(), a.shape() + a.ndim()), a.data()));
  }
  if (!preset.empty()) wf.metadata["preset"] = preset;
  return Model::from_weights(wf, "state_dict");
}

void save(const py::object& weights, const py::object& path, const std::optional<std::string>& preset) {
  const std::string file = fspath(path);
  const Format format = format_for_output(file);
  if (py::isinstance<PyModel>(weights)) {
    const Classifier& c = weights.cast<PyModel&>().classifier;
    const WeightFile wf = c.model().to_weights(preset_name(preset ? parse_preset(*preset) : c.preset()));
    py::gil_scoped_release unlocked;
    save_weights(wf, file, format);
  } else if (py::isinstance<py::dict>(weights)) {
    const std::string p = preset ? preset_name(parse_preset(*preset)) : "";
    const WeightFile wf = model_of(weights, p).to_weights(p);
    py::gil_scoped_release unlocked;
    save_weights(wf, file, format);
  } else {
    throw py::type_error("save takes a squeezenet.Model or a state_dict (dict of name -> array), not " +
                         py::repr(py::type::of(weights)).cast<std::string>());
  }
}

}  // namespace

}  // namespace squeezenet::python

PYBIND11_MODULE(_core, m) {
  using namespace squeezenet;
  using namespace squeezenet::python;
  m.doc() = "SqueezeNet 1.0 and 1.1 (torchvision's) on fast AVX2/AVX-512 kernels: classify, logits, CAM, fine-tune.";
  m.attr("__version__") = SQUEEZENET_VERSION;
  py::register_exception<Error>(m, "Error", PyExc_RuntimeError).doc() =
      "A bad file, image, array or argument: the message names it and says what is wrong.";
  bind_model(m);
  bind_finetune(m);
  m.def("load", &load, py::arg("path"), py::arg("preset") = py::none(), py::arg("threads") = 0,
        R"(Loads weights of any supported format (.pth zip or legacy, .safetensors, .caffemodel, Deep-Compression
.net, ncnn .param + .bin, a folder of .npy) into a Model.

preset: the preprocessing, 'torchvision', 'caffe' or 'tflite' (default: what the weights record, else
torchvision). threads: compute threads of the model (0: one per core; give 1 to models that run in parallel
Python threads).)");
  m.def("preprocess", &preprocess_image, py::arg("image"), py::arg("preset") = "torchvision",
        R"(The network input for an image, float32 [1, 3, H, W]: exactly what PIL + torchvision's transforms give
for preset 'torchvision' (resize 256, centre crop 224, ImageNet mean/std), or OpenCV + Caffe's for 'caffe'.
image: a path, encoded bytes, a PIL image or a uint8 numpy array (H, W, 3) / (H, W).)");
  m.def("save", &save, py::arg("weights"), py::arg("path"), py::arg("preset") = py::none(),
        R"(Writes a Model, or a state_dict of numpy arrays under torchvision's names, to path, atomically. The
format follows the extension: .safetensors, .pth (readable by torch.load) or .caffemodel. preset is recorded
in the file (default: the model's).)");
}
