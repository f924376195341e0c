// NhwcFeatures::backward: the steps of `features` in reverse, one image per thread, then the images' gradient
// slots summed into the caller's gradients. Inside a slot a conv's weight gradient is laid out as grad_kernels
// produces it, (kernel row, kernel column, input channel) x output channel, except a Fire's squeeze, which is
// output x input channel as in PyTorch.
#include <omp.h>

#include <algorithm>

#include "squeezenet/error.h"
#include "train/fast_features.h"
#include "train/gradient_listener.h"
#include "train/nhwc_ops.h"
#include "train/pairwise_sum.h"
#include "train/profile.h"

namespace squeezenet::train {
namespace {

using Floats = NhwcFeatures::Floats;

constexpr int kStemChunkPixels = 256;  // output pixels whose gathered inputs stay in L2

// Scratch only grows; what it held before is overwritten or zeroed by its user.
void grow(Floats& f, int64_t size) {
  if (static_cast<int64_t>(f.size()) < size) f.resize(static_cast<std::size_t>(size));
}

PixelMap<const float> in(const PixelMap<float>& m) { return {m.data, m.row, m.pixel}; }
PixelMap<const float> dense(const float* data, int w, int c) { return {data, int64_t{w} * c, c}; }

// Fills p, made [k, n] where it is not, with value(row, col) in memory order.
template <class F>
void fill(Panels& p, int k, int n, F value) {
  if (p.k != k || p.n != n) p = Panels(k, n);
  float* out = p.data.data();
  for (int c0 = 0; c0 < p.n; c0 += p.width)
    for (int r = 0; r < p.k; ++r, out += p.width)
      for (int c = c0; c < std::min(p.n, c0 + p.width); ++c) out[c - c0] = value(r, c);
}

// The input gradient of a stride-1 conv is the conv of the output gradient with the kernel flipped and its
// channels swapped: row (kh, kw, o), column c holds weight[o][c][K-1-kh][K-1-kw].
void pack_flipped(const Tensor& weight, Panels& p) {
  const int O = static_cast<int>(weight.dim(0)), C = static_cast<int>(weight.dim(1)),
            K = static_cast<int>(weight.dim(2));
  fill(p, K * K * O, C, [&](int r, int c) {
    const int kh = r / (K * O), kw = r / O % K, o = r % O;
    return weight[((int64_t{o} * C + c) * K + (K - 1 - kh)) * K + (K - 1 - kw)];
  });
}

// For a strided conv's input gradient by columns: row o, column (kh, kw, c) holds weight[o][c][kh][kw].
void pack_columns(const Tensor& weight, Panels& p) {
  const int O = static_cast<int>(weight.dim(0)), C = static_cast<int>(weight.dim(1)),
            K = static_cast<int>(weight.dim(2));
  fill(p, O, K * K * C, [&](int o, int col) {
    const int kh = col / (K * C), kw = col / C % K, c = col % C;
    return weight[((int64_t{o} * C + c) * K + kh) * K + kw];
  });
}

}  // namespace

Tensor& grad_of(Gradients& grads, const std::string& name) {
  auto it = grads.find(name);
  if (it == grads.end()) throw Error("backward: no gradient buffer for parameter '" + name + "'");
  return it->second;
}

void NhwcFeatures::fire_backward(const Step& s, const StepPanels& p, const float* x, const Floats& frame,
                                 const Floats& y, float* slot, Scratch& t, bool need_dx) const {
  const int h = s.in_h, w = s.in_w, cin = s.in_c, out_c = s.out_c;
  const int sq = s.conv.out_channels, e1 = s.expand1x1.out_channels, e3 = s.expand3x3.out_channels;
  float *dw_sq = slot, *db_sq = dw_sq + int64_t{sq} * cin, *dw_e1 = db_sq + sq, *db_e1 = dw_e1 + int64_t{sq} * e1;
  float *dw_e3 = db_e1 + e1, *db_e3 = dw_e3 + int64_t{9} * sq * e3;

  // The expands' ReLU, splitting the concatenation: expand1x1's gradient dense, expand3x3's inside a zero
  // border that is the padding of its transposed conv.
  const int64_t g3_row = int64_t{w + 2} * e3;
  grow(t.g1, int64_t{h} * w * e1);
  grow(t.g3, (h + 2) * g3_row);
  zero_border(t.g3.data(), h, w, e3);
  const PixelMap<float> g1{t.g1.data(), int64_t{w} * e1, e1}, g3{t.g3.data() + g3_row + e3, g3_row, e3};
  {
    const profile::Scope scope("[image] fire: relu of the expands");
    relu_backward(h, w, dense(y.data(), w, out_c), dense(t.grad.data(), w, out_c), g1, e1);
    relu_backward(h, w, dense(y.data() + e1, w, out_c), dense(t.grad.data() + e1, w, out_c), g3, e3);
  }

  // Weight and bias gradients of the expands: the squeeze output (in its frame) against their gradients.
  const int64_t frame_row = int64_t{s.frame_w} * sq;
  const float* squeezed = frame.data() + frame_row + sq;
  {
    const profile::Scope scope("[image] fire: dW expand1x1");
    weight_grad(h, w, {squeezed, frame_row, sq}, sq, in(g1), e1, dw_e1, e1, false);
    channel_sums(h, w, in(g1), e1, db_e1);
  }
  {
    const profile::Scope scope("[image] fire: dW expand3x3");
    for (int kh = 0; kh < 3; ++kh)
      weight_grad(h, w, {frame.data() + kh * frame_row, frame_row, sq}, 3 * sq, in(g3), e3,
                  dw_e3 + int64_t{kh} * 3 * sq * e3, e3, false);
    channel_sums(h, w, in(g3), e3, db_e3);
  }

  // The squeeze output's gradient: both expands' transposed convs, then the squeeze's ReLU.
  grow(t.ds, int64_t{h} * w * sq);
  const PixelMap<float> ds{t.ds.data(), int64_t{w} * sq, sq};
  {
    const profile::Scope scope("[image] fire: dX expand3x3");
    input_grad(h, w, {t.g3.data(), g3_row, e3}, {3, g3_row, 3 * e3}, p.c, ds, false);
  }
  {
    const profile::Scope scope("[image] fire: dX expand1x1 + relu");
    input_grad(h, w, in(g1), {1, 0, e1}, p.b, ds, true);
    relu_backward(h, w, {squeezed, frame_row, sq}, in(ds), ds, sq);
  }
  {
    const profile::Scope scope("[image] fire: dW squeeze");
    weight_grad(h, w, in(ds), sq, dense(x, w, cin), cin, dw_sq, cin, false);
    channel_sums(h, w, in(ds), sq, db_sq);
  }
  if (!need_dx) return;
  const profile::Scope scope("[image] fire: dX squeeze");
  grow(t.next, int64_t{h} * w * cin);
  input_grad(h, w, in(ds), {1, 0, sq}, p.a, {t.next.data(), int64_t{w} * cin, cin}, false);
}

void NhwcFeatures::conv_backward(const Step& s, const StepPanels& p, const float* x, const Floats& y, float* slot,
                                 Scratch& t, bool need_dx) const {
  const int K = s.layer->conv.kernel, stride = s.layer->conv.stride, C = s.in_c, O = s.out_c;
  const int oh = s.out_h, ow = s.out_w, kc = K * C;
  const PixelMap<float> g{t.grad.data(), int64_t{ow} * O, O};
  relu_backward(oh, ow, dense(y.data(), ow, O), in(g), g, O);
  const int64_t kkc = int64_t{K} * kc;
  {
    const profile::Scope scope("[image] conv: dW");
    // The K * K * C inputs under each output pixel gathered for a few output rows at a time (a kernel row's
    // K * C are contiguous in NHWC), so that one product per chunk reads the output gradient once.
    const int rows = std::max(1, kStemChunkPixels / ow);
    grow(t.cols, rows * ow * kkc);
    for (int y0 = 0; y0 < oh; y0 += rows) {
      const int y1 = std::min(oh, y0 + rows);
      for (int oy = y0; oy < y1; ++oy)
        for (int ox = 0; ox < ow; ++ox)
          for (int kh = 0; kh < K; ++kh)
            std::copy_n(x + ((int64_t{oy} * stride + kh) * s.in_w + int64_t{ox} * stride) * C, kc,
                        t.cols.data() + (int64_t{oy - y0} * ow + ox) * kkc + kh * kc);
      weight_grad(y1 - y0, ow, {t.cols.data(), ow * kkc, kkc}, static_cast<int>(kkc), {g.at(y0, 0), g.row, O}, O, slot,
                  O, y0 > 0);
    }
    channel_sums(oh, ow, in(g), O, slot + kkc * O);
  }
  if (!need_dx) return;
  // Strided, so by columns: the gradient of every (kh, kw, c) under each output pixel, folded back onto the
  // input. Only gradient checks ask for the input gradient of the first conv.
  const profile::Scope scope("[image] conv: dX");
  grow(t.cols, int64_t{oh} * ow * kkc);
  input_grad(oh, ow, in(g), {1, 0, O}, p.a, {t.cols.data(), ow * kkc, kkc}, false);
  grow(t.next, int64_t{s.in_h} * s.in_w * C);
  std::fill_n(t.next.data(), int64_t{s.in_h} * s.in_w * C, 0.0f);
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int kh = 0; kh < K; ++kh) {
        const float* col = t.cols.data() + (int64_t{oy} * ow + ox) * kkc + int64_t{kh} * kc;
        float* dx = t.next.data() + ((int64_t{oy} * stride + kh) * s.in_w + int64_t{ox} * stride) * C;
        for (int i = 0; i < kc; ++i) dx[i] += col[i];
      }
}

void NhwcFeatures::backward_image(const float* grad_nchw, const Maps& m, float* slot, Scratch& t,
                                  float* input_grad_nchw) const {
  const Step& last = steps_.back();
  grow(t.grad, int64_t{last.out_h} * last.out_w * last.out_c);
  nchw_to_nhwc(grad_nchw, last.out_c, last.out_h, last.out_w, t.grad.data());
  for (std::size_t i = steps_.size(); i-- > 0;) {
    const Step& s = steps_[i];
    const profile::Scope scope("[image] backward", s.layer->name);
    const float* x = i == 0 ? m.input.data() : m.out[i - 1].data();
    const bool need_dx = i > 0 || input_grad_nchw;
    switch (s.layer->kind) {
      case Layer::Kind::Conv2d:
        conv_backward(s, panels_[i], x, m.out[i], slot + s.slot, t, need_dx);
        break;
      case Layer::Kind::MaxPool2d: {
        const int64_t size = int64_t{s.in_h} * s.in_w * s.in_c;
        grow(t.next, size);
        std::fill_n(t.next.data(), size, 0.0f);
        max_pool_backward(x, s.in_h, s.in_w, s.in_c, t.grad.data(), t.next.data());
        break;
      }
      default:
        fire_backward(s, panels_[i], x, m.frame[i], m.out[i], slot + s.slot, t, need_dx);
        break;
    }
    if (!need_dx) break;
    std::swap(t.grad, t.next);
    between_layers();  // the thread that started backward lets the classifier's sum advance
  }
  if (input_grad_nchw)
    nhwc_to_nchw(t.grad.data(), static_cast<int>(height_), static_cast<int>(width_), 3, input_grad_nchw);
}

Tensor NhwcFeatures::backward(const Tensor& output_grad, Gradients& grads, bool need_input_grad) {
  const int64_t N = kept_images_;
  if (N == 0 || steps_.empty()) throw Error("backward: no training-mode forward of the features to go back through");
  const Step& last = steps_.back();
  if (output_grad.shape() != Shape{N, last.out_c, last.out_h, last.out_w})
    throw Error("backward: gradient " + shape_str(output_grad.shape()) + " does not fit the features' output");
  {
    const profile::Scope scope("step", "backward: packing weights");
    panels_.resize(steps_.size());
#pragma omp parallel for schedule(dynamic)
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      const Layer& l = *steps_[i].layer;
      StepPanels& p = panels_[i];
      if (l.kind == Layer::Kind::Fire) {
        pack_flipped(model_->parameter(l.name + ".squeeze.weight"), p.a);
        pack_flipped(model_->parameter(l.name + ".expand1x1.weight"), p.b);
        pack_flipped(model_->parameter(l.name + ".expand3x3.weight"), p.c);
      } else if (l.kind == Layer::Kind::Conv2d && (i > 0 || need_input_grad)) {
        pack_columns(model_->parameter(l.name + ".weight"), p.a);
      }
    }
  }
  if (static_cast<int64_t>(slots_.size()) < N) slots_.resize(static_cast<std::size_t>(N));
  for (Floats& slot : slots_) grow(slot, slot_floats_);
  Tensor dx = need_input_grad ? Tensor({N, 3, height_, width_}) : Tensor();
  const int64_t out_size = int64_t{last.out_c} * last.out_h * last.out_w;
  scratch_.resize(static_cast<std::size_t>(omp_get_max_threads()));
#pragma omp parallel
  {
    Scratch& scratch = scratch_[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic)
    for (int64_t n = 0; n < N; ++n)
      backward_image(output_grad.data() + n * out_size, kept_[static_cast<std::size_t>(n)],
                     slots_[static_cast<std::size_t>(n)].data(), scratch,
                     need_input_grad ? dx.data() + n * 3 * height_ * width_ : nullptr);
  }
  const profile::Scope scope("step", "backward: summing image gradients");
  add_slots(grads, N);
  return dx;
}

void NhwcFeatures::add_slots(Gradients& grads, int64_t images) {
  // A parameter's gradient inside the slots: [rows][cols] from `offset`; by_output_channel: rows are
  // (kh, kw, c) and columns o, else the slot holds PyTorch's own order.
  struct Part {
    Tensor* grad;
    int64_t offset;
    int O, C, K;
    bool by_output_channel;
  };
  // Layers' parts and the range [begin, end) of the slot they fill.
  struct Group {
    const Layer* layer;  // announced when the group is done (one layer a group then)
    int64_t begin, end;
    std::vector<Part> parts;
  };
  std::vector<Group> groups;
  for (const Step& s : steps_) {
    const Layer& l = *s.layer;
    int64_t at = s.slot;
    const auto add = [&](const std::string& conv, int O, int C, int K, bool by_output_channel) {
      std::vector<Part>& parts = groups.back().parts;
      parts.push_back({&grad_of(grads, conv + ".weight"), at, O, C, K, by_output_channel});
      at += int64_t{O} * C * K * K;
      parts.push_back({&grad_of(grads, conv + ".bias"), at, O, 1, 1, false});
      at += O;
      groups.back().end = at;
    };
    if (l.kind == Layer::Kind::Conv2d) {
      groups.push_back({&l, at, at, {}});
      add(l.name, l.conv.out_channels, l.conv.in_channels, l.conv.kernel, true);
    } else if (l.kind == Layer::Kind::Fire) {
      const FireSpec& f = l.fire;
      groups.push_back({&l, at, at, {}});
      add(l.name + ".squeeze", f.squeeze, f.inplanes, 1, false);
      add(l.name + ".expand1x1", f.expand1x1, f.squeeze, 1, true);
      add(l.name + ".expand3x3", f.expand3x3, f.squeeze, 3, true);
    }
  }
  // One parallel region for all of it, and one group of layers with one barrier unless someone listens: a
  // barrier per parameter would wait on every thread the loader's threads hold up. The images' slots are
  // summed into the first one in the pairwise tree over the images (train/pairwise_sum.h), so that no result
  // depends on which thread took an image, nor on how the step's images were split into batches; then that
  // sum goes into PyTorch's layout. When the calling thread listens to backward (train/gradient_listener.h),
  // each layer is a group of its own, from the last, announced when done: the sum over the ranks of the last
  // layers then runs while the first are added up.
  const bool announce = listening();
  if (!announce && groups.size() > 1) {
    for (std::size_t i = 1; i < groups.size(); ++i) {
      groups.front().parts.insert(groups.front().parts.end(), groups[i].parts.begin(), groups[i].parts.end());
    }
    groups.front().end = groups.back().end;
    groups.resize(1);
  }
  constexpr int64_t kBlock = 4096;
  std::vector<float*> image_slots(static_cast<std::size_t>(images));
  for (std::size_t n = 0; n < image_slots.size(); ++n) image_slots[n] = slots_[n].data();
  const float* sum = image_slots.front();
#pragma omp parallel
  for (auto group = groups.rbegin(); group != groups.rend(); ++group) {
#pragma omp for schedule(static)
    for (int64_t b = group->begin; b < group->end; b += kBlock)
      pairwise_sum(image_slots, b, std::min(group->end, b + kBlock));
    for (const Part& part : group->parts) {
      const int K = part.K, C = part.C, O = part.O;
      const int64_t rows = part.by_output_channel ? int64_t{K} * K * C : O;
      const int64_t cols = part.by_output_channel ? O : int64_t{C} * K * K;
      float* g = part.grad->data();
      const float* from = sum + part.offset;
#pragma omp for schedule(static) nowait
      for (int64_t r = 0; r < rows; ++r) {
        if (!part.by_output_channel) {
#pragma omp simd
          for (int64_t q = 0; q < cols; ++q) g[r * cols + q] += from[r * cols + q];
          continue;
        }
        const int64_t kh = r / (int64_t{K} * C), kw = r / C % K, c = r % C;
        for (int64_t q = 0; q < cols; ++q) g[((q * C + c) * K + kh) * K + kw] += from[r * cols + q];
      }
    }
    if (announce) {
#pragma omp barrier
#pragma omp master
      {
        announce_layer_done(group->layer->name);
        between_layers();
      }
    }
  }
}

}  // namespace squeezenet::train
