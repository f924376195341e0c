#pragma once
// Backward tells a listener, as it goes, which layers' parameter gradients are final for the call: the
// classifier's first, conv1's last. The trainer listens to start summing a bucket of gradients over the ranks
// while backward still runs for the earlier layers (as PyTorch DDP does). The listener belongs to the thread
// that set it, so the worker threads of a parallel backward neither see it nor call into MPI.
#include <string>

namespace squeezenet::train {

class GradientListener {
 public:
  // Every parameter gradient of `layer` (a name of Model::layers()) is final for this backward.
  virtual void layer_done(const std::string& layer) = 0;
  // Called between layers: time to let started work advance.
  virtual void between_layers() = 0;

 protected:
  ~GradientListener() = default;
};

// Makes `listener` hear this thread's backward passes for as long as the object lives.
class ListenToBackward {
 public:
  explicit ListenToBackward(GradientListener& listener);
  ~ListenToBackward();
  ListenToBackward(const ListenToBackward&) = delete;
  ListenToBackward& operator=(const ListenToBackward&) = delete;

 private:
  GradientListener* previous_;
};

// What backward calls; nothing happens on a thread without a listener.
bool listening();
void announce_layer_done(const std::string& layer);
void between_layers();

}  // namespace squeezenet::train
