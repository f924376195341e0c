// Eval-mode forward with the reference kernels: the executable definition of the network.
#include "model/forward_reference.h"

#include "kernels/reference/reference.h"

namespace squeezenet {

namespace {
Tensor conv(const Model& model, const Tensor& x, const std::string& name, const Conv2dSpec& s) {
  return ref::conv2d(x, model.parameter(name + ".weight"), model.parameter(name + ".bias"), s.stride, s.padding);
}

Tensor run(const Model& model, const Tensor& input, bool features_only) {
  check_input(model.config(), input.shape());
  Tensor x = input;
  for (const Layer& l : model.layers()) {
    if (features_only && l.name.starts_with("classifier.")) break;
    switch (l.kind) {
      case Layer::Kind::Conv2d: x = conv(model, x, l.name, l.conv); break;
      case Layer::Kind::ReLU: ref::relu_(x); break;
      case Layer::Kind::MaxPool2d: x = ref::max_pool2d_ceil(x, 3, 2); break;
      case Layer::Kind::Fire: {
        Tensor s = conv(model, x, l.name + ".squeeze", l.fire.squeeze_conv());
        ref::relu_(s);
        Tensor e1 = conv(model, s, l.name + ".expand1x1", l.fire.expand1x1_conv());
        Tensor e3 = conv(model, s, l.name + ".expand3x3", l.fire.expand3x3_conv());
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
}  // namespace

Tensor forward_reference(const Model& model, const Tensor& input) { return run(model, input, false); }

Tensor features_reference(const Model& model, const Tensor& input) { return run(model, input, true); }

}  // namespace squeezenet
