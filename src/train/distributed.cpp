#include "train/distributed.h"

namespace squeezenet::train {
namespace {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(float*, std::size_t) override {}
  void sum(double*, std::size_t) override {}
};

}  // namespace

Communicator& single_process() {
  static SingleProcess one;
  return one;
}

}  // namespace squeezenet::train
