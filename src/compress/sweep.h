#pragma once
// Deep Compression's sensitivity analysis: prune one layer alone to each of a few densities, measure accuracy on
// held-out images, and propose for each layer the lowest density that costs no more than a tolerance.
#include <string>
#include <vector>

#include "compress/retrain.h"
#include "squeezenet/model.h"
#include "squeezenet/weights.h"

namespace squeezenet {

struct SweepRow {
  std::string layer;
  std::vector<double> accuracy;  // per density tried, in the order given
  double proposed = 1.0;
};

// Accuracy is top-1 against the set's labels, or agreement with the teacher's top-1 where it has none;
// `baseline` receives the unpruned weights' figure. Densities must be in (0, 1].
std::vector<SweepRow> sensitivity_sweep(const WeightFile& weights, const TuningSet& set,
                                        const std::vector<double>& densities, double tolerance, double& baseline);

}  // namespace squeezenet
