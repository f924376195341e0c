#include "model/int8_plan.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>

#include "kernels/reference/int8.h"
#include "kernels/x86/int8_winograd.h"
#include "quant/epilogue.h"
#include "squeezenet/error.h"

namespace squeezenet {

namespace int8 = x86::int8;
namespace kept = x86::kept;

// Lays out a lane's arena and appends the steps, walking the network with the activation's place and shape.
struct QuantizedPlan::Builder {
  QuantizedPlan& plan;
  const QuantizedModel& q;
  int64_t lane_bytes = 0;
  std::map<std::tuple<int64_t, int64_t, int64_t>, int64_t> frames;  // (h, w, c) -> offset

  // Where an activation is: a dense NHWC u8 map at `offset` in the lane.
  struct Act {
    int64_t offset, h, w, c;
  };

  int64_t alloc(int64_t bytes) {
    const int64_t at = lane_bytes;
    lane_bytes += (bytes + 63) / 64 * 64;
    return at;
  }
  // A zero-bordered (h + 2) x (w + 2) map of c channels, one per shape: a border once zero stays zero.
  int64_t frame(int64_t h, int64_t w, int64_t c) {
    const auto key = std::make_tuple(h, w, c);
    if (!frames.count(key)) frames[key] = alloc((h + 2) * (w + 2) * c);
    return frames[key];
  }

  // A 3x3 conv with `winograd` runs on Winograd F(2x2, 3x3) (int8_winograd.h), the same bits as the direct conv; its
  // units are then rows of output tiles, and `in` the zero-bordered frame.
  void conv(const std::string& step, const QuantizedConv& qc, int64_t in, int64_t in_row, int in_pixel, int64_t oh,
            int64_t ow, int64_t out, int64_t out_row, int out_pixel, int8::ConvIO::Output kind, bool winograd = false) {
    if (qc.kept_fp32()) return kept_conv(step, qc, in, in_row, in_pixel, oh, ow, out, out_row, out_pixel);
    auto packed = std::make_unique<int8::PackedConv>(int8::pack(qc, plan.kernels_->lanes, plan.kernels_->group_blocks));
    if (winograd) int8::pack_winograd(qc, plan.kernels_->lanes, *packed);
    plan.convs_.push_back(std::move(packed));
    const int8::PackedConv* p = plan.convs_.back().get();
    const int64_t macs = oh * ow * qc.spec.out_channels * qc.spec.in_channels * qc.spec.kernel * qc.spec.kernel;
    const int8::KernelTable* k = plan.kernels_;
    const auto run = winograd ? k->winograd3x3 : k->conv;
    plan.steps_.push_back({step, macs, winograd ? (oh + 1) / 2 : oh * ow, winograd ? 1 : k->tile_pixels,
                           [=](const Lane& l, int64_t, const float*, float*, int64_t first, int64_t last) {
                             const int8::ConvIO io{l.base + in, in_row,   in_pixel, l.base + out,         out_row,
                                                   out_pixel,   static_cast<int>(ow), kind, static_cast<int>(oh)};
                             run(*p, io, first, last);
                           }});
  }

  // A conv kept in fp32 reads the same u8 map (the stem: the fp32 image) and writes the same output.
  void kept_conv(const std::string& step, const QuantizedConv& qc, int64_t in, int64_t in_row, int in_pixel,
                 int64_t oh, int64_t ow, int64_t out, int64_t out_row, int out_pixel) {
    const Conv2dSpec& s = qc.spec;
    plan.kept_.push_back(std::make_unique<kept::PackedConv>(kept::pack(quant::kept_weights(q, qc), qc.bias,
                                                                       s.out_channels, s.in_channels, s.kernel,
                                                                       s.stride, qc.output_scale)));
    const kept::PackedConv* p = plan.kept_.back().get();
    const int64_t macs = oh * ow * s.out_channels * s.in_channels * s.kernel * s.kernel;
    const bool stem = &qc == &q.convs.front();
    const int64_t H = plan.input_shape_[2], W = plan.input_shape_[3];
    plan.steps_.push_back({step, macs, oh * ow, 8,
                           [=](const Lane& l, int64_t, const float* image, float*, int64_t first, int64_t last) {
                             kept::IO io;
                             if (stem) {
                               io.image = image;
                               io.image_height = H;
                               io.image_width = W;
                             } else {
                               io.in = l.base + in;
                               io.in_row = in_row;
                               io.in_pixel = in_pixel;
                             }
                             io.out = l.base + out;
                             io.out_row = out_row;
                             io.out_pixel = out_pixel;
                             io.out_width = static_cast<int>(ow);
                             kept::conv(*p, io, first, last);
                           }});
  }

  Act stem(const Act& image, int64_t out) {
    const QuantizedConv& qc = q.conv("features.0");
    const int64_t oh = conv_output_size(image.h, qc.spec.kernel, qc.spec.stride, 0);
    const int64_t ow = conv_output_size(image.w, qc.spec.kernel, qc.spec.stride, 0);
    const int64_t c = qc.spec.out_channels, K = qc.spec.kernel, s = qc.spec.stride;
    // A stem kept in fp32 reads the fp32 image itself, so it needs no stacked u8 windows.
    if (qc.kept_fp32()) {
      kept_conv("features.0-1", qc, image.offset, 0, 0, oh, ow, out, ow * c, static_cast<int>(c));
      return {out, oh, ow, c};
    }
    const int64_t row = image.w * K * int8::kImageChannels + 1, windows = alloc(oh * row + 4);
    const int8::KernelTable* k = plan.kernels_;
    plan.steps_.push_back({"features.0.windows", 0, oh, 1,
                           [=](const Lane& l, int64_t, const float*, float*, int64_t first, int64_t last) {
                             k->stack_windows(l.base + image.offset, image.w, static_cast<int>(K),
                                              static_cast<int>(s), l.base + windows, row, first, last);
                           }});
    conv("features.0-1", int8::stem_as_1x1(qc), windows, row, static_cast<int>(s * K * int8::kImageChannels), oh, ow,
         out, ow * c, static_cast<int>(c), int8::ConvIO::Output::u8);
    return {out, oh, ow, c};
  }

  Act max_pool(const std::string& name, const Act& x, int64_t out) {
    const int64_t oh = pool_output_size(x.h, 3, 2), ow = pool_output_size(x.w, 3, 2);
    const int8::KernelTable* k = plan.kernels_;
    plan.steps_.push_back({name, 0, oh, 1,
                           [x, out, k](const Lane& l, int64_t, const float*, float*, int64_t first, int64_t last) {
                             k->max_pool(l.base + x.offset, static_cast<int>(x.h), static_cast<int>(x.w),
                                         static_cast<int>(x.c), l.base + out, static_cast<int>(first),
                                         static_cast<int>(last));
                           }});
    return {out, oh, ow, x.c};
  }

  // The squeeze writes into its frame's interior; both expands read the frame and write their channels of one
  // map over the Fire's input, which the squeeze has read in full by then.
  Act fire(const Layer& l, const Act& x) {
    const FireSpec& f = l.fire;
    const int64_t s = f.squeeze, e = f.out_channels(), fr = frame(x.h, x.w, s), row = (x.w + 2) * s;
    conv(l.name + ".squeeze", q.conv(l.name + ".squeeze"), x.offset, x.w * x.c, static_cast<int>(x.c), x.h, x.w,
         fr + row + s, row, static_cast<int>(s), int8::ConvIO::Output::u8);
    conv(l.name + ".expand1x1", q.conv(l.name + ".expand1x1"), fr + row + s, row, static_cast<int>(s), x.h, x.w,
         x.offset, x.w * e, static_cast<int>(e), int8::ConvIO::Output::u8);
    const QuantizedConv& e3 = q.conv(l.name + ".expand3x3");
    conv(l.name + ".expand3x3", e3, fr, row, static_cast<int>(s), x.h, x.w, x.offset + f.expand1x1, x.w * e,
         static_cast<int>(e), int8::ConvIO::Output::u8, plan.kernels_->winograd3x3 && int8::winograd_fits(e3));
    return {x.offset, x.h, x.w, e};
  }

  // The final conv in fp32 with ReLU, then the average over pixels, summed in pixel order as the reference does.
  // The Caffe v1.0 head pads its 1x1 conv by 1: a border output sees only padding, a zero sum, so the border is
  // the same every run. The conv computes the interior alone (at 13x13, a quarter of the 15x15 MACs go) and a
  // step copies the border's values in, worked out once by the reference epilogue.
  // What the head writes where it sees only padding: a zero sum through its epilogue, as the reference computes it.
  std::vector<float> border_values(const QuantizedConv& qc) {
    const int64_t o = qc.spec.out_channels;
    if (qc.kept_fp32()) {
      const Tensor zero({1, qc.spec.in_channels, 1, 1});
      const Tensor y = ref::conv2d_kept_fp32(zero, quant::kept_weights(q, qc), qc.bias, 1, 1, 0);
      return {y.data(), y.data() + o};
    }
    const int8::PackedConv& pc = *plan.convs_.back();
    std::vector<float> border(static_cast<std::size_t>(o));
    for (std::size_t c = 0; c < border.size(); ++c) border[c] = ref::dequantize_relu(0, pc.multiplier[c], pc.offset[c]);
    return border;
  }

  void head(const Layer& l, const Act& x) {
    const QuantizedConv& qc = q.conv(l.name);
    const int64_t pad = qc.spec.padding, oh = x.h + 2 * pad, ow = x.w + 2 * pad, o = qc.spec.out_channels;
    const int64_t out = alloc(oh * ow * o * static_cast<int64_t>(sizeof(float)));
    conv(l.name, qc, x.offset, x.w * x.c, static_cast<int>(x.c), x.h, x.w,
         out + (pad * ow + pad) * o * static_cast<int64_t>(sizeof(float)), ow * o, static_cast<int>(o),
         int8::ConvIO::Output::f32);
    if (pad > 0) {
      const std::vector<float> border = border_values(qc);
      plan.steps_.push_back({l.name + ".border", 0, o, 16,
                             [=](const Lane& lane, int64_t, const float*, float*, int64_t first, int64_t last) {
                               float* y = reinterpret_cast<float*>(lane.base + out);
                               for (int64_t py = 0; py < oh; ++py)
                                 for (int64_t px = 0; px < ow; ++px)
                                   if (py < pad || py >= oh - pad || px < pad || px >= ow - pad)
                                     std::copy(border.begin() + first, border.begin() + last,
                                               y + (py * ow + px) * o + first);
                             }});
    }
    const int64_t pixels = oh * ow;
    plan.steps_.push_back({"classifier.3", 0, o, 16,
                           [=](const Lane& lane, int64_t n, const float*, float* logits, int64_t first, int64_t last) {
                             const float* y = reinterpret_cast<const float*>(lane.base + out);
                             float* z = logits + n * o;
                             std::fill(z + first, z + last, 0.0f);
                             for (int64_t p = 0; p < pixels; ++p)
                               for (int64_t c = first; c < last; ++c) z[c] += y[p * o + c];
                             for (int64_t c = first; c < last; ++c) z[c] /= static_cast<float>(pixels);
                           }});
  }

  void build() {
    const int64_t H = plan.input_shape_[2], W = plan.input_shape_[3];
    int64_t largest = 0;
    for (const LayerSummary& r : summarize(q.config, H, W)) largest = std::max(largest, numel_of(r.output));
    const Act image{alloc(H * W * 4), H, W, 4};
    const int64_t buffer[2] = {alloc(largest), alloc(largest)};
    const float inverse = quant::image_inverse_scale(q);
    const int8::KernelTable* k = plan.kernels_;
    std::atomic<bool>* nonfinite = plan.nonfinite_.get();
    plan.steps_.push_back(
        {"input", 0, H * W, 16,
         [=](const Lane& l, int64_t n, const float* img, float*, int64_t first, int64_t last) {
           if (!k->quantize_image(img, H * W, inverse, l.base + image.offset, first, last)) nonfinite[n] = true;
         }});
    Act x{};
    for (const Layer& l : architecture(q.config)) {
      const int other = x.offset == buffer[0] ? 1 : 0;
      if (l.kind == Layer::Kind::Conv2d && l.name == "features.0") x = stem(image, buffer[0]);
      if (l.kind == Layer::Kind::Conv2d && l.name != "features.0") head(l, x);
      if (l.kind == Layer::Kind::MaxPool2d) x = max_pool(l.name, x, buffer[other]);
      if (l.kind == Layer::Kind::Fire) x = fire(l, x);
    }
  }
};

QuantizedPlan::QuantizedPlan(const QuantizedModel& q, const Shape& input_shape, int threads,
                             const int8::KernelTable* kernels)
    : input_shape_(input_shape),
      num_classes_(q.config.num_classes),
      threads_(threads),
      kernels_(kernels ? kernels : int8::fastest()),
      team_(threads) {
  if (!kernels_) throw Error("int8 forward: this CPU has no AVX2");
  if (threads < 1) throw Error("int8 forward: thread count must be positive");
  check_input(q.config, input_shape);
  const int64_t N = input_shape[0];
  nonfinite_ = std::make_unique<std::atomic<bool>[]>(static_cast<std::size_t>(N));
  Builder b{*this, q, 0, {}};
  b.build();
  // Images go one per worker when there are enough of them; otherwise the workers share each image and its lane.
  const int64_t lanes = N >= threads ? threads : 1;
  arena_bytes_ = lanes * b.lane_bytes;
  arena_ = {static_cast<uint8_t*>(::operator new(static_cast<std::size_t>(arena_bytes_), std::align_val_t{64})),
            [](uint8_t* p) { ::operator delete(p, std::align_val_t{64}); }};
  std::memset(arena_.get(), 0, static_cast<std::size_t>(arena_bytes_));  // the frames' borders
  for (int64_t i = 0; i < lanes; ++i) lanes_.push_back({arena_.get() + i * b.lane_bytes});
  profile_ = StepProfile(steps_.size());
}

QuantizedPlan::~QuantizedPlan() = default;

int64_t QuantizedPlan::packed_weight_bytes() const {
  int64_t bytes = 0;
  for (const auto& c : convs_) bytes += c->bytes();
  for (const auto& c : kept_) bytes += c->bytes();
  return bytes;
}

QuantizedPlan::Paths QuantizedPlan::conv_paths() const {
  Paths paths;
  for (const auto& c : convs_)
    ++(!c->winograd.empty()      ? paths.winograd
       : c->quad_pairs_fit_16 ? paths.quad_pairs_fit
       : c->pairs_fit_16      ? paths.pairs_fit
                              : paths.widened);
  return paths;
}

void QuantizedPlan::run_image(int64_t n, const Lane& lane, const float* image, float* logits, int member, int members,
                              bool timed) {
  using clock = std::chrono::steady_clock;
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    const Step& st = steps_[s];
    const auto start = timed ? clock::now() : clock::time_point{};
    const auto cut = [&](int m) { return m == members ? st.units : st.units * m / members / st.align * st.align; };
    const int64_t first = cut(member), last = cut(member + 1);
    if (first < last) st.run(lane, n, image, logits, first, last);
    if (members > 1) team_.barrier();
    if (timed) profile_.add(s, std::chrono::duration<double>(clock::now() - start).count());
  }
  if (timed) profile_.image_done();
}

void QuantizedPlan::run(const float* input, float* logits) {
  const int64_t N = input_shape_[0], per = input_shape_[1] * input_shape_[2] * input_shape_[3];
  for (int64_t n = 0; n < N; ++n) nonfinite_[n] = false;
  if (lanes_.size() > 1 || threads_ == 1) {
    team_.run([&](int m) {
      for (int64_t n = m; n < N; n += threads_) run_image(n, lanes_[static_cast<std::size_t>(m)], input + n * per, logits, 0, 1, profile_.on() && m == 0);
    });
  } else {
    team_.run([&](int m) {
      for (int64_t n = 0; n < N; ++n) run_image(n, lanes_[0], input + n * per, logits, m, threads_, profile_.on() && m == 0);
    });
  }
  for (int64_t n = 0; n < N; ++n)
    if (nonfinite_[n])
      std::fill(logits + n * num_classes_, logits + (n + 1) * num_classes_, std::numeric_limits<float>::quiet_NaN());
}

}  // namespace squeezenet
