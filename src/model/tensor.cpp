#include "squeezenet/tensor.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "squeezenet/error.h"

namespace squeezenet {

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error("negative dimension in shape " + shape_str(shape));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw Error("shape " + shape_str(shape) + " overflows");
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream s;
  s << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << ']';
  return s.str();
}

Tensor::Tensor(Shape shape, float fill)
    : shape_(std::move(shape)), data_(static_cast<std::size_t>(numel_of(shape_)), fill) {}

Tensor::Tensor(Shape shape, const float* values) : Tensor(std::move(shape)) {
  std::copy(values, values + numel(), data_.begin());
}

void Tensor::reshape(Shape shape) {
  if (numel_of(shape) != numel())
    throw Error("cannot reshape " + shape_str(shape_) + " to " + shape_str(shape));
  shape_ = std::move(shape);
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    throw Error("shape mismatch " + shape_str(a.shape()) + " vs " + shape_str(b.shape()));
  float m = 0.0f;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) m = d;  // NaN propagates as the maximum
  }
  return m;
}

}  // namespace squeezenet
