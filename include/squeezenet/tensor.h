#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "squeezenet/export.h"

namespace squeezenet SQUEEZENET_API {

// 64-byte aligned so that vector kernels may use aligned loads on any tensor's start.
template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{64}); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
};

using Shape = std::vector<int64_t>;

// A dense, contiguous, row-major float32 tensor that owns its data. Activations are NCHW, conv weights OIHW:
// the layouts of torchvision's state_dict, so names and shapes carry over without translation.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, const float* values);

  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_.at(static_cast<std::size_t>(i < 0 ? i + ndim() : i)); }
  int64_t numel() const { return static_cast<int64_t>(data_.size()); }
  bool empty() const { return data_.empty(); }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator[](int64_t i) { return data_[static_cast<std::size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<std::size_t>(i)]; }

  // Same data, new shape with the same element count.
  void reshape(Shape shape);

 private:
  Shape shape_;
  std::vector<float, AlignedAllocator<float>> data_;
};

int64_t numel_of(const Shape& shape);
std::string shape_str(const Shape& shape);
float max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace squeezenet
