#pragma once
// What crosses between Python and the library: numpy arrays, PIL images, paths and bytes in; numpy arrays out.
// Everything from Python is checked here, once, with the library's kind of message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>
#include <string>

#include "squeezenet/image.h"
#include "squeezenet/tensor.h"

namespace squeezenet::python {

namespace py = pybind11;

// A path (str or os.PathLike), encoded bytes, a PIL image or a uint8 numpy array (H, W, 3) RGB or (H, W) grey.
// Files are decoded with the GIL released.
Image to_image(const py::handle& obj);

// The tensor's own memory handed to numpy, which frees it with the array: no copy.
py::array_t<float> to_numpy(Tensor tensor);

// A float32, C-contiguous array's shape and memory, for reading in place; throws TypeError otherwise.
struct FloatView {
  Shape shape;
  const float* data;
};
FloatView float_view(const py::handle& obj, const char* what);

Preset to_preset(const std::optional<std::string>& name, Preset fallback);

}  // namespace squeezenet::python
