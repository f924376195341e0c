#include "convert.h"

#include <algorithm>
#include <cstring>

#include "squeezenet/error.h"

namespace squeezenet::python {

namespace {

std::string describe(const py::array& a) {
  std::string shape;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape(i));
  if (a.ndim() == 1) shape += ",";
  return py::str(a.dtype()).cast<std::string>() + " array of shape (" + shape + ")";
}

Image from_array(const py::array& any) {
  const bool grey = any.ndim() == 2, rgb = any.ndim() == 3 && any.shape(2) == 3;
  if (!py::isinstance<py::array_t<uint8_t>>(any) || !(grey || rgb))
    throw py::type_error("image array must be uint8 of shape (H, W, 3) RGB or (H, W) grey, got a " + describe(any));
  const auto a = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(any);
  Image image;
  image.height = static_cast<int>(a.shape(0));
  image.width = static_cast<int>(a.shape(1));
  if (image.width < 1 || image.height < 1 || a.shape(0) > 1 << 20 || a.shape(1) > 1 << 20)
    throw Error("image array of " + std::to_string(a.shape(1)) + "x" + std::to_string(a.shape(0)) +
                " pixels has no usable size");
  const auto pixels = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height);
  image.rgb.resize(pixels * 3);
  if (rgb) {
    std::memcpy(image.rgb.data(), a.data(), image.rgb.size());
  } else {
    for (std::size_t i = 0; i < pixels; ++i) std::fill_n(image.rgb.data() + 3 * i, 3, a.data()[i]);
  }
  return image;
}

bool is_pil_image(const py::handle& obj) {
  // A PIL image can only exist once PIL.Image is imported, so there is nothing to import here.
  const py::dict modules = py::module_::import("sys").attr("modules");
  return modules.contains("PIL.Image") && py::isinstance(obj, modules["PIL.Image"].attr("Image"));
}

}  // namespace

Image to_image(const py::handle& obj) {
  if (py::isinstance<py::bytes>(obj)) {
    const auto bytes = obj.cast<std::string>();
    py::gil_scoped_release unlocked;
    return decode_image_bytes(bytes, "image bytes");
  }
  if (py::isinstance<py::str>(obj) || py::hasattr(obj, "__fspath__")) {
    const auto path = py::module_::import("os").attr("fsdecode")(obj).cast<std::string>();
    py::gil_scoped_release unlocked;
    return decode_image(path);
  }
  if (is_pil_image(obj)) return from_array(py::module_::import("numpy").attr("asarray")(obj.attr("convert")("RGB")));
  if (py::isinstance<py::array>(obj)) return from_array(py::reinterpret_borrow<py::array>(obj));
  throw py::type_error("an image is a path, encoded bytes, a PIL image or a uint8 numpy array, not " +
                       py::repr(py::type::of(obj)).cast<std::string>());
}

py::array_t<float> to_numpy(Tensor tensor) {
  auto* owner = new Tensor(std::move(tensor));
  const py::capsule free_when_done(owner, [](void* p) { delete static_cast<Tensor*>(p); });
  const std::vector<py::ssize_t> shape(owner->shape().begin(), owner->shape().end());
  return py::array_t<float>(shape, owner->data(), free_when_done);
}

FloatView float_view(const py::handle& obj, const char* what) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(what) + " must be a float32 numpy array, not " +
                         py::repr(py::type::of(obj)).cast<std::string>());
  const auto a = py::reinterpret_borrow<py::array>(obj);
  if (!py::isinstance<py::array_t<float>>(a))
    throw py::type_error(std::string(what) + " must be float32, got a " + describe(a) + " (use x.astype(np.float32))");
  if (!(a.flags() & py::array::c_style))
    throw py::type_error(std::string(what) + " must be C-contiguous, got a strided " + describe(a) +
                         " (use np.ascontiguousarray(x))");
  return {Shape(a.shape(), a.shape() + a.ndim()), static_cast<const float*>(a.data())};
}

Preset to_preset(const std::optional<std::string>& name, Preset fallback) {
  return name ? parse_preset(*name) : fallback;
}

}  // namespace squeezenet::python
