#include "train/gradient_listener.h"

namespace squeezenet::train {
namespace {

thread_local GradientListener* t_listener = nullptr;

}  // namespace

ListenToBackward::ListenToBackward(GradientListener& listener) : previous_(t_listener) { t_listener = &listener; }

ListenToBackward::~ListenToBackward() { t_listener = previous_; }

bool listening() { return t_listener != nullptr; }

void announce_layer_done(const std::string& layer) {
  if (t_listener) t_listener->layer_done(layer);
}

void between_layers() {
  if (t_listener) t_listener->between_layers();
}

}  // namespace squeezenet::train
