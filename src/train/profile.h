#pragma once
// Where a training step's time goes: named wall-clock totals, collected only when the environment variable
// SQUEEZENET_PROFILE is set (to anything), printed by the trainer after every epoch. Scopes entered inside a
// parallel loop add every thread's time, so their totals are thread time, not wall time.
#include <cstdint>
#include <string_view>

namespace squeezenet::train::profile {

bool enabled();

// Adds the time between construction and destruction to the total of `phase` + " " + `what`. Both are views:
// pass literals or names that outlive the scope (a layer's).
class Scope {
 public:
  explicit Scope(std::string_view phase, std::string_view what = {});
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  std::string_view phase_, what_;
  int64_t start_ns_ = -1;
};

// Prints the totals so far as milliseconds per image, largest first, then clears them.
void report(int64_t images);

}  // namespace squeezenet::train::profile
