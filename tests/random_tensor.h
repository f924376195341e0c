#pragma once
// Seeded uniform tensors for kernel and network tests.
#include "squeezenet/tensor.h"
#include "util/rng.h"

namespace squeezenet::test {

inline Tensor random_tensor(Shape shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Rng rng(seed);
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(rng.uniform(lo, hi));
  return t;
}

}  // namespace squeezenet::test
