#pragma once
// Per-step wall time of a plan's forwards, for finding the slow layer. Both plans (fp32/bf16 and int8) stamp the
// clock around every step of the images their member 0 runs; this keeps each step's sum and fastest image.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace squeezenet {

struct StepTime {
  std::string name;    // "input", "features.0-2", "features.3.squeeze", "features.3.expand", ...
  int64_t macs;        // per image
  double seconds;      // per image, averaged over the images timed
  double min_seconds;  // the fastest image
};

class StepProfile {
 public:
  explicit StepProfile(std::size_t steps = 0) : sum_(steps, 0.0), min_(steps, 0.0) {}
  bool on() const { return on_; }
  // Turning it on or off starts the sums afresh.
  void set(bool on) {
    on_ = on;
    std::fill(sum_.begin(), sum_.end(), 0.0);
    std::fill(min_.begin(), min_.end(), 0.0);
    images_ = 0;
  }
  void add(std::size_t step, double seconds) {
    sum_[step] += seconds;
    min_[step] = images_ ? std::min(min_[step], seconds) : seconds;
  }
  void image_done() { ++images_; }
  // Steps: anything indexable whose elements have a name and macs.
  template <class Steps>
  std::vector<StepTime> report(const Steps& steps) const {
    std::vector<StepTime> out;
    for (std::size_t i = 0; i < sum_.size(); ++i)
      out.push_back({steps[i].name, steps[i].macs, images_ ? sum_[i] / static_cast<double>(images_) : 0.0, min_[i]});
    return out;
  }

 private:
  bool on_ = false;
  std::vector<double> sum_, min_;
  int64_t images_ = 0;
};

}  // namespace squeezenet
