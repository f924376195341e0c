#include "model.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <optional>
#include <vector>

#include "convert.h"
#include "squeezenet/error.h"

namespace squeezenet::python {

namespace {

struct PyPrediction {
  int index;
  std::string name;
  float score;
};

std::vector<PyPrediction> named(const std::vector<Prediction>& predictions, int num_classes) {
  std::vector<PyPrediction> out;
  for (const Prediction& p : predictions) out.push_back({p.index, class_name(p.index, num_classes), p.score});
  return out;
}

// One image gives one list of predictions; a list or tuple of images gives a list of those, run as batches.
py::object classify(PyModel& m, const py::object& images, int top) {
  if (top < 1) throw Error("top must be at least 1, got " + std::to_string(top));
  const int classes = m.classifier.model().config().num_classes;
  const bool many = py::isinstance<py::list>(images) || py::isinstance<py::tuple>(images);
  std::vector<Image> decoded;
  if (many) {
    for (const py::handle& image : images) decoded.push_back(to_image(image));
    if (decoded.empty()) return py::list();
  } else {
    decoded.push_back(to_image(images));
  }
  std::vector<std::vector<Prediction>> results;
  {
    py::gil_scoped_release unlocked;
    const std::lock_guard lock(m.engine_mutex);
    results = m.classifier.classify(decoded, top);
  }
  if (!many) return py::cast(named(results.front(), classes));
  py::list out;
  for (const auto& r : results) out.append(py::cast(named(r, classes)));
  return out;
}

py::array_t<float> logits(PyModel& m, const py::object& x) {
  const FloatView in = float_view(x, "logits input");
  check_input(m.classifier.model().config(), in.shape);
  py::array_t<float> out({static_cast<py::ssize_t>(in.shape[0]),
                          static_cast<py::ssize_t>(m.classifier.model().config().num_classes)});
  float* result = out.mutable_data();
  py::gil_scoped_release unlocked;
  const std::lock_guard lock(m.engine_mutex);
  m.classifier.logits(in.data, in.shape, result);
  return out;
}

py::array_t<float> cam(PyModel& m, const py::handle& image, std::optional<int> class_index) {
  const Image decoded = to_image(image);
  Tensor map;
  {
    py::gil_scoped_release unlocked;
    int index = 0;
    if (class_index) {
      index = *class_index;
    } else {
      const std::lock_guard lock(m.engine_mutex);
      index = m.classifier.classify(decoded, 1).front().index;
    }
    map = m.classifier.class_activation_map(decoded, index);
  }
  return to_numpy(std::move(map));
}

py::dict state_dict(const PyModel& m) {
  py::dict out;
  const Model& model = m.classifier.model();
  for (const std::string& name : model.parameter_names()) {
    const Tensor& t = model.parameter(name);
    out[py::str(name)] = py::array_t<float>(std::vector<py::ssize_t>(t.shape().begin(), t.shape().end()), t.data());
  }
  return out;
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<PyPrediction>(m, "Prediction", "One class of a classification: its index, name and softmax probability.")
      .def_readonly("index", &PyPrediction::index, "Output index (ImageNet: 0 = tench ... 999 = toilet tissue)")
      .def_readonly("name", &PyPrediction::name, "The class's name ('class 7' when the model is not ImageNet's)")
      .def_readonly("score", &PyPrediction::score, "Softmax probability")
      .def("__iter__", [](const PyPrediction& p) { return iter(py::make_tuple(p.index, p.name, p.score)); })
      .def("__repr__", [](const PyPrediction& p) {
        return "Prediction(index=" + std::to_string(p.index) + ", name=" + py::repr(py::str(p.name)).cast<std::string>() +
               ", score=" + py::repr(py::float_(p.score)).cast<std::string>() + ")";
      });

  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model", R"(A SqueezeNet with its weights, the preprocessing they were trained with and a
fast engine. Make one with squeezenet.load(path).

Calls release the GIL: Python threads on different models run in parallel (give each threads=1); threads
sharing one model take turns.)")
      .def("classify", &classify, py::arg("image"), py::arg("top") = 5,
           R"(Top classes of an image, largest probability first.

image: a path, encoded bytes (JPEG, PNG), a PIL image, or a uint8 numpy array (H, W, 3) RGB or (H, W) grey;
or a list of those, which gives a list of results and runs as batches. The image is resized and cropped as
the weights expect (the model's preset), exactly as PIL + torchvision (or OpenCV, for Caffe weights) do.)")
      .def("logits", &logits, py::arg("x"),
           R"(Logits of a preprocessed batch: float32 C-contiguous numpy array [N, 3, H, W] -> [N, num_classes].

The input is read in place and the output is written straight into the returned array (nothing is copied);
the GIL is released while the network runs.)")
      .def("cam", &cam, py::arg("image"), py::arg("class_index") = py::none(),
           R"(Class activation map of an image, float32 [h, w] (13x13 for a 224 input): the final conv's
post-ReLU output for class_index (default: the top class). The logit is the map's mean, so it shows where the
evidence for the class lies, over the centre crop the network saw.)")
      .def("state_dict", &state_dict,
           "The parameters as float32 numpy arrays (copies) under torchvision's state_dict names, in its order.")
      .def_property_readonly("arch", [](const PyModel& p) { return arch_name(p.classifier.model().config().arch); },
                             "'squeezenet1_0' or 'squeezenet1_1'")
      .def_property_readonly("num_classes", [](const PyModel& p) { return p.classifier.model().config().num_classes; },
                             "Number of outputs")
      .def_property_readonly("preset", [](const PyModel& p) { return preset_name(p.classifier.preset()); },
                             "The preprocessing its inputs get: 'torchvision', 'caffe' or 'tflite'")
      .def("__repr__", [](const PyModel& p) {
        const ModelConfig& c = p.classifier.model().config();
        return "squeezenet.Model(arch='" + arch_name(c.arch) + "', num_classes=" + std::to_string(c.num_classes) +
               ", preset='" + preset_name(p.classifier.preset()) + "')";
      });
}

}  // namespace squeezenet::python
