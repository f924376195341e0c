// Eval-mode forward with the reference kernels: the executable definition of the network.
#include "kernels/reference/reference.h"
#include "model/forward_reference.h"

namespace squeezenet {

Tensor forward_reference(const Model& model, const Tensor& input) {
  check_input(model.config(), input.shape());
  auto conv = [&](const Tensor& x, const std::string& name, const Conv2dSpec& s) {
    Tensor y = ref::conv2d(x, model.parameter(name + ".weight"), model.parameter(name + ".bias"), s.stride, s.padding);
    return y;
  };
  Tensor x = input;
  for (const Layer& l : model.layers()) {
    switch (l.kind) {
      case Layer::Kind::Conv2d: x = conv(x, l.name, l.conv); break;
      case Layer::Kind::ReLU: ref::relu_(x); break;
      case Layer::Kind::MaxPool2d: x = ref::max_pool2d_ceil(x, 3, 2); break;
      case Layer::Kind::Fire: {
        Tensor s = conv(x, l.name + ".squeeze", l.fire.squeeze_conv());
        ref::relu_(s);
        Tensor e1 = conv(s, l.name + ".expand1x1", l.fire.expand1x1_conv());
        Tensor e3 = conv(s, l.name + ".expand3x3", l.fire.expand3x3_conv());
        ref::relu_(e1);
        ref::relu_(e3);
        x = ref::concat_channels(e1, e3);
        break;
      }
      case Layer::Kind::Dropout: break;  // identity in eval mode
      case Layer::Kind::AdaptiveAvgPool2d: x = ref::global_avg_pool(x); break;
    }
  }
  return x;
}

}  // namespace squeezenet
