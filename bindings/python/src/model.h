#pragma once
// squeezenet.Model: a Classifier (weights, their preprocessing, a fast engine) as Python sees it.
#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>

#include "squeezenet/classifier.h"

namespace squeezenet::python {

namespace py = pybind11;

struct PyModel {
  explicit PyModel(Classifier c) : classifier(std::move(c)) {}
  Classifier classifier;
  // An Engine serves one thread at a time: Python threads sharing a model take turns (the GIL is released
  // while they wait), threads on different models run at once.
  std::mutex engine_mutex;
};

void bind_model(py::module_& m);

}  // namespace squeezenet::python
