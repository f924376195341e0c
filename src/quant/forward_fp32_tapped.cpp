// The fp32 forward with the reference kernels, reporting every activation the int8 network gives a scale.
#include "kernels/reference/reference.h"
#include "quant/taps.h"

namespace squeezenet::quant {

namespace {
Tensor conv_relu(const Model& m, const Tensor& x, const std::string& name, const Conv2dSpec& s, const Tap& tap,
                 const Tap& conv_input, Conv conv) {
  if (conv_input) conv_input(name, x);
  Tensor y = conv(x, m.parameter(name + ".weight"), m.parameter(name + ".bias"), s.stride, s.padding);
  ref::relu_(y);
  tap(name, y);
  return y;
}
}  // namespace

Tensor forward_fp32_tapped(const Model& model, const Tensor& input, const Tap& tap, const Tap& given_conv_input,
                           Conv conv, const std::string& last) {
  if (!conv) conv = ref::conv2d;
  check_input(model.config(), input.shape());
  tap("input", input);
  bool reached = false;
  const Tap conv_input = [&](const std::string& name, const Tensor& x) {
    if (given_conv_input) given_conv_input(name, x);
    reached |= name == last;
  };
  Tensor x = input;
  Tensor logits;
  for (const Layer& l : model.layers()) {
    if (reached) return {};
    if (l.kind == Layer::Kind::Conv2d && l.name == "features.0") x = conv_relu(model, x, l.name, l.conv, tap, conv_input, conv);
    if (l.kind == Layer::Kind::MaxPool2d) x = ref::max_pool2d_ceil(x, 3, 2);
    if (l.kind == Layer::Kind::Fire) {
      const Tensor s = conv_relu(model, x, l.name + ".squeeze", l.fire.squeeze_conv(), tap, conv_input, conv);
      const Tensor e1 = conv_relu(model, s, l.name + ".expand1x1", l.fire.expand1x1_conv(), tap, conv_input, conv);
      x = ref::concat_channels(e1, conv_relu(model, s, l.name + ".expand3x3", l.fire.expand3x3_conv(), tap, conv_input, conv));
    }
    if (l.kind == Layer::Kind::Conv2d && l.name != "features.0") {
      if (conv_input) conv_input(l.name, x);
      Tensor y = conv(x, model.parameter(l.name + ".weight"), model.parameter(l.name + ".bias"), l.conv.stride,
                      l.conv.padding);
      ref::relu_(y);
      logits = ref::global_avg_pool(y);
    }
  }
  tap("logits", logits);
  return logits;
}

}  // namespace squeezenet::quant
