#pragma once
// The loss and accuracy curves of a run as a picture: two panels side by side (loss left, accuracy right),
// training in blue and validation in orange, one point per epoch. No text: the CSV beside it has the numbers.
#include <vector>

#include "squeezenet/image.h"

namespace squeezenet::train {

struct Curves {
  std::vector<double> train_loss, val_loss, train_acc, val_acc;  // accuracy in [0, 1]
};

Image plot_curves(const Curves& curves);

}  // namespace squeezenet::train
