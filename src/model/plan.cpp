// The network as a list of fused steps over NHWC buffers:
//   input transpose | stem: conv1 + ReLU + max-pool, in bands | max-pool | per Fire: squeeze + ReLU into a
//   zero-bordered frame, then expand1x1 + ReLU and expand3x3 + ReLU (Winograd) into the two channel halves of
//   one output | head: conv10 + ReLU + global average pool, straight into the logits.
// Whole images go to separate threads while there are enough of them; the rest are shared by all threads step
// by step, each step cut into chunks of pixels, Winograd tiles or channel blocks.
#include "model/plan.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <new>

#include "kernels/dispatch.h"
#include "kernels/x86/bf16.h"
#include "kernels/x86/stem_windows.h"
#include "squeezenet/error.h"

namespace squeezenet {

namespace {

using avx2::ConvIO;
using avx2::PackedConv;

// Piece k of `pieces` of [0, total), cut on multiples of `unit` so that tiles are not split.
std::pair<int64_t, int64_t> piece(int64_t total, int64_t unit, int64_t k, int64_t pieces) {
  const int64_t units = (total + unit - 1) / unit;
  return {std::min(total, units * k / pieces * unit), std::min(total, units * (k + 1) / pieces * unit)};
}
// Pieces [first, last) of `pieces` together: they are adjacent.
std::pair<int64_t, int64_t> pieces_span(int64_t total, int64_t unit, int64_t first, int64_t last, int64_t pieces) {
  return {piece(total, unit, first, pieces).first, piece(total, unit, last - 1, pieces).second};
}

int64_t conv_macs(const PackedConv& c, int64_t out_pixels) {
  return out_pixels * c.out_channels * c.in_channels * c.kernel * c.kernel;
}

// Winograd tile of an expand3x3 on an h x w map, picked by measuring both networks at 224x224 on one core:
// F(4x4, 3x3) is fastest on the 27x27 and 55x55 maps (1.2-1.7x faster than F(2x2, 3x3), 1.7-2.5x faster than
// the direct conv); on 13x13 F(2x2, 3x3) wins by up to 15 %, since 4x4 tiles pad 13 to 16 and F(4x4)'s
// weights, 4x the size of the kernel's, serve only 16 tiles per image. Both are within 1e-4 of the reference.
// bf16 rounds every transformed input and weight to 8 bits, and F(4x4)'s transforms magnify that (worst output
// error 3.9 % of the largest against F(2x2)'s 0.5 %). On the 1000-image sample, F(4x4) on the 55x55 and 27x27
// maps, though up to 1.4x faster there, gave another top-1 than fp32 on 1.6 % of images (deep-compression-v1.0;
// 1.6-1.7 % with F(4x4) everywhere), F(2x2) on 0.7 %: bf16 runs F(2x2) on every map.
int expand3x3_tile(int h, int w, Precision precision) {
  return precision == Precision::bf16 || std::min(h, w) < 20 ? 2 : 4;
}

// Whether the stem runs as a bf16 1x1 conv over stacked windows (stem_windows.h) rather than as the fp32 direct
// conv, measured on the 1000-image sample against fp32 (scripts/accuracy_precision.sh bf16): on 1.0's 7x7 stem
// it is 1.5x faster (1.6 -> 1.05 ms on one thread) and gave another top-1 than fp32 on one more image of the
// 1000 (deep-compression-v1.0: 8 against 7, top-1 unchanged); on 1.1's 3x3 it gains 6 % of a 0.26 ms step but
// rounding the image to bf16 flipped 2-7 more images per model (99.0 -> 98.3 % the same on onnx-zoo-1.1, top-1
// +0.3 pt), so 1.1's stays fp32.
bool stem_windows(int kernel, Precision precision) {
  return precision == Precision::bf16 && kernel >= 5 && kernel <= x86::stem_windows::kMaxKernel;
}

// Pooled rows per band of the stem: the band's conv rows (9 of 109-111 pixels, 64-96 channels) stay in L2.
constexpr int kStemBand = 4;

// Chunks per thread when threads share an image: enough to absorb a preempted thread, few enough that the
// per-chunk costs (a shared counter, the stem's first conv row computed twice) stay small.
constexpr int64_t kChunksPerThread = 4;

// Activations and scratch of all threads together: far beyond any sensible input, small enough to fail cleanly.
constexpr int64_t kMaxArenaFloats = int64_t{1} << 32;

void free_arena(float* p) { ::operator delete[](p, std::align_val_t{64}); }

// A buffer holding bf16 activations (KernelTable::round_bf16): the arena is untyped storage, sized in floats.
uint16_t* as_bf16(float* p) { return reinterpret_cast<uint16_t*>(p); }

}  // namespace

// Turns the layer list into steps, following the activation's shape and the buffer that holds it.
struct Plan::Builder {
  Plan& plan;
  const Model& model;
  bool shared;  // some image is shared by all threads: steps need chunks
  int c = 3, h = 0, w = 0, cur = side;
  // The bf16 families store what the stem, the pools and the Fires write in bf16 (bf16.h); `cur_bf16`: the
  // activation in `cur` is such a one. The image and the squeeze's frame stay fp32.
  const bool act_bf16 = plan.kernels_->round_bf16 != nullptr;
  bool cur_bf16 = false;

  static int other(int buffer) { return buffer == main ? side : main; }
  void need(int buffer, int64_t floats) { plan.buffer_floats_[buffer] = std::max(plan.buffer_floats_[buffer], floats); }
  // Room for `values` activations, bf16 or fp32.
  void need_values(int buffer, int64_t values, bool bf16) { need(buffer, bf16 ? (values + 1) / 2 : values); }
  void need_scratch(int64_t floats) { plan.scratch_floats_ = std::max(plan.scratch_floats_, floats); }
  // Chunks for `units` of work, at least `min_units` each; one when no image is ever shared.
  int64_t chunks_for(int64_t units, int64_t min_units) const {
    if (!shared) return 1;
    // A multiple of the thread count: every thread's own share the same number of chunks.
    const int64_t t = plan.threads_, chunks = std::clamp<int64_t>(units / min_units, 1, kChunksPerThread * t);
    return (chunks + t - 1) / t * t;
  }
  // Packed for family k's kernels: the plan's, or the one its direct stem runs on.
  const PackedConv* pack(const std::string& name, int stride, const x86::KernelTable* k) {
    return prepared(avx2::pack_conv(model.parameter(name + ".weight"), model.parameter(name + ".bias"), stride), k);
  }
  const PackedConv* prepared(PackedConv conv, const x86::KernelTable* k) {
    plan.convs_.push_back(std::make_unique<PackedConv>(std::move(conv)));
    if (k->prepare) k->prepare(*plan.convs_.back());
    return plan.convs_.back().get();
  }
  void add(std::string name, int64_t macs, int64_t chunks, std::function<void(const Context&, int64_t, int64_t)> f) {
    plan.steps_.push_back({std::move(name), macs, chunks, std::move(f)});
  }

  void input() {
    const x86::KernelTable* k = plan.kernels_;
    const int rows = h, cols = w;
    const int64_t chunks = chunks_for(rows, 8);
    need(side, int64_t{3} * rows * cols);
    add("input", 0, chunks, [=](const Context& x, int64_t first, int64_t last) {
      const auto [r0, r1] = pieces_span(rows, 1, first, last, chunks);
      if (!k->rgb_to_nhwc(x.image, rows, cols, x.lane.buffer[side], static_cast<int>(r0), static_cast<int>(r1)))
        x.nonfinite->store(true, std::memory_order_relaxed);
    });
  }

  // conv + ReLU + max-pool in bands, so that the large conv output never leaves the cache. With stacked
  // windows each band first lays its conv rows' windows out in scratch.
  void stem(const Layer& conv, const Layer& pool) {
    if (conv.conv.padding != 0) throw Error("plan: " + conv.name + " has padding, which only Fire convs may have");
    const int K = conv.conv.kernel, stride = conv.conv.stride;
    const bool windows = stem_windows(K, plan.kernels_->precision);
    const x86::KernelTable* k = windows || !plan.kernels_->stem ? plan.kernels_ : plan.kernels_->stem;
    const PackedConv* pc = windows ? prepared(avx2::pack_conv(bf16::stem_weight(model.parameter(conv.name + ".weight")),
                                                              model.parameter(conv.name + ".bias"), 1),
                                              k)
                                   : pack(conv.name, stride, k);
    const int in_c = c, in_w = w, o = pc->out_channels, in = cur, out = other(cur);
    const int oh = static_cast<int>(conv_output_size(h, K, stride, 0));
    const int ow = static_cast<int>(conv_output_size(w, K, stride, 0));
    const int ph = static_cast<int>(pool_output_size(oh, 3, 2)), pw = static_cast<int>(pool_output_size(ow, 3, 2));
    const int64_t conv_row = int64_t{ow} * o, chunks = chunks_for(ph, 8);
    const int64_t stacked_row = windows ? int64_t{in_w} * K * in_c : 0, image_row = int64_t{in_w} * in_c;
    // bf16 output: a conv of the plan's family writes its rows in bf16 and the pool runs on them; the fp32 stem
    // of another family is pooled in fp32 into `pooled`, then rounded.
    const bool rows_bf16 = act_bf16 && k == plan.kernels_;
    const int64_t band_rows = 2 * kStemBand + 1, pooled_band = act_bf16 && !rows_bf16 ? int64_t{kStemBand} * pw * o : 0;
    const x86::KernelTable* family = plan.kernels_;
    need_values(out, int64_t{ph} * pw * o, act_bf16);
    need_scratch(band_rows * (conv_row + stacked_row) + pooled_band);
    add(conv.name + "-" + pool.name.substr(pool.name.find('.') + 1), int64_t{oh} * ow * o * in_c * K * K, chunks,
        [=](const Context& x, int64_t first, int64_t last) {
          const auto [r0, r1] = pieces_span(ph, 1, first, last, chunks);
          float* stacked = x.scratch + band_rows * conv_row;
          float* pooled = stacked + band_rows * stacked_row;  // the band's pooled rows before rounding to bf16
          // Pooled rows [p, p + n) need conv rows [2p, 2p + 2n]; the last is the next band's first.
          int carried = 0;  // conv rows already at the top of the band buffer
          for (int64_t p = r0; p < r1; p += kStemBand) {
            const int n = static_cast<int>(std::min<int64_t>(kStemBand, r1 - p));
            const int top = static_cast<int>(2 * p), bottom = std::min(oh, top + 2 * n + 1);
            const float* image = x.lane.buffer[in] + int64_t{top + carried} * stride * image_row;
            uint16_t* rows16 = as_bf16(x.scratch);
            ConvIO io{.in = image,
                      .in_pixel = in_c,
                      .in_row = image_row,
                      .out = rows_bf16 ? nullptr : x.scratch + carried * conv_row,
                      .out_pixel = o,
                      .out_row = conv_row,
                      .out_h = bottom - top - carried,
                      .out_w = ow,
                      .out_bf16 = rows_bf16 ? rows16 + carried * conv_row : nullptr};
            if (windows) {
              bf16::stack_windows(image, in_w, K, stride, stacked, stacked_row, 0, io.out_h);
              io.in = stacked, io.in_pixel = int64_t{stride} * K * in_c, io.in_row = stacked_row;
            }
            k->conv_relu(*pc, io, 0, io.pixels(), 0, pc->blocks());
            // NaN-free: the ReLU above maps NaN to 0, and NaN input is caught at the entry.
            const int64_t at = p * pw * o;
            if (rows_bf16) {
              k->max_pool_bf16(rows16, bottom - top, ow, o, as_bf16(x.lane.buffer[out]) + at, 0, n);
            } else if (pooled_band) {
              k->max_pool_3x3s2_ceil_no_nan(x.scratch, bottom - top, ow, o, pooled, 0, n);
              family->round_bf16(pooled, int64_t{n} * pw * o, as_bf16(x.lane.buffer[out]) + at);
            } else {
              k->max_pool_3x3s2_ceil_no_nan(x.scratch, bottom - top, ow, o, x.lane.buffer[out] + at, 0, n);
            }
            carried = bottom - top == 2 * n + 1 ? 1 : 0;
            if (carried && rows_bf16)
              std::copy(rows16 + 2 * n * conv_row, rows16 + (2 * n + 1) * conv_row, rows16);
            else if (carried)
              std::copy(x.scratch + 2 * n * conv_row, x.scratch + (2 * n + 1) * conv_row, x.scratch);
          }
        });
    c = o, h = ph, w = pw, cur = out, cur_bf16 = act_bf16;
  }

  void max_pool(const Layer& l) {
    const x86::KernelTable* k = plan.kernels_;
    const int oh = static_cast<int>(pool_output_size(h, 3, 2)), ow = static_cast<int>(pool_output_size(w, 3, 2));
    const int channels = c, in_h = h, in_w = w, in = cur, out = other(cur);
    const int64_t chunks = chunks_for(oh, 2);
    const bool bf16 = cur_bf16;
    need_values(out, int64_t{oh} * ow * c, bf16);
    add(l.name, 0, chunks, [=](const Context& x, int64_t first, int64_t last) {
      const auto [r0, r1] = pieces_span(oh, 1, first, last, chunks);
      if (bf16)
        k->max_pool_bf16(as_bf16(x.lane.buffer[in]), in_h, in_w, channels, as_bf16(x.lane.buffer[out]),
                         static_cast<int>(r0), static_cast<int>(r1));
      else
        k->max_pool_3x3s2_ceil_no_nan(x.lane.buffer[in], in_h, in_w, channels, x.lane.buffer[out],
                                      static_cast<int>(r0), static_cast<int>(r1));
    });
    h = oh, w = ow, cur = out;
  }

  void fire(const Layer& l) {
    const x86::KernelTable* k = plan.kernels_;
    const PackedConv* squeeze = pack(l.name + ".squeeze", 1, k);
    const PackedConv* e1 = pack(l.name + ".expand1x1", 1, k);
    // A family without Winograd runs the expand3x3 as a direct conv over the same frame, as 1x1 "tiles".
    const bool winograd = k->winograd_relu != nullptr;
    const int tile = winograd ? expand3x3_tile(h, w, k->precision) : 1;
    const avx2::PackedWinograd* e3 = nullptr;
    const PackedConv* e3_direct = nullptr;
    if (winograd) {
      plan.winograds_.push_back(std::make_unique<avx2::PackedWinograd>(avx2::pack_winograd(
          model.parameter(l.name + ".expand3x3.weight"), model.parameter(l.name + ".expand3x3.bias"), tile)));
      if (k->prepare_winograd) k->prepare_winograd(*plan.winograds_.back());
      e3 = plan.winograds_.back().get();
      need_scratch(avx2::winograd_scratch_floats(*e3));
    } else {
      e3_direct = pack(l.name + ".expand3x3", 1, k);
    }
    const int e3_channels = winograd ? e3->out_channels : e3_direct->out_channels;
    const int in_c = c, rows = h, cols = w, s = l.fire.squeeze, e = l.fire.out_channels(), in = cur, out = main;
    // The frame: the squeeze output inside a zero border, expand3x3's padding made real. Winograd tiles hanging
    // over the bottom and right edges read a little more of it.
    const int fh = (h + tile - 1) / tile * tile + 2, fw = (w + tile - 1) / tile * tile + 2;
    const int64_t fr = int64_t{fw} * s, interior = fr + s, pixels = int64_t{h} * w;
    const bool in_bf16 = cur_bf16, out_bf16 = act_bf16;
    need(frame, fh * fr);
    need_values(out, pixels * e, out_bf16);

    const int64_t sq_chunks = chunks_for(pixels, 48), sq_unit = k->pixel_unit(squeeze->blocks());
    add(l.name + ".squeeze", conv_macs(*squeeze, pixels), sq_chunks,
        [=](const Context& x, int64_t first, int64_t last) {
          float* f = x.lane.buffer[frame];
          if (first == 0) {  // the border: rows above and below, columns left and right
            std::fill(f, f + fr, 0.0f);
            std::fill(f + (rows + 1) * fr, f + fh * fr, 0.0f);
            for (int y = 1; y <= rows; ++y) {
              std::fill(f + y * fr, f + y * fr + s, 0.0f);
              std::fill(f + y * fr + (cols + 1) * s, f + (y + 1) * fr, 0.0f);
            }
          }
          const ConvIO io{.in = in_bf16 ? nullptr : x.lane.buffer[in],
                          .in_pixel = in_c,
                          .in_row = int64_t{cols} * in_c,
                          .out = f + interior,
                          .out_pixel = s,
                          .out_row = fr,
                          .out_h = rows,
                          .out_w = cols,
                          .in_bf16 = in_bf16 ? as_bf16(x.lane.buffer[in]) : nullptr};
          const auto [p0, p1] = pieces_span(pixels, sq_unit, first, last, sq_chunks);
          k->conv_relu(*squeeze, io, p0, p1, 0, squeeze->blocks());
        });

    // Each thread's share: one piece of the expand3x3's Winograd tiles, then some pieces of the expand1x1's
    // pixels, over the same part of the image. One Winograd piece per thread, as large as it can be: its weight
    // panels are reused across a block of up to 24 tiles, so pieces of 8 read them three times as often.
    const int64_t tiles = winograd ? avx2::winograd_tiles(tile, h, w) : pixels;
    const int64_t teams = shared ? plan.threads_ : 1, e1_pieces = chunks_for(pixels, 48);  // a multiple of teams
    const int64_t per_team = 1 + e1_pieces / teams, e1_unit = k->pixel_unit(e1->blocks());
    const int64_t macs = conv_macs(*e1, pixels) + pixels * 9 * s * e3_channels;
    add(l.name + ".expand", macs, teams * per_team, [=](const Context& x, int64_t first, int64_t last) {
      const float* f = x.lane.buffer[frame];
      ConvIO io{.in = f,
                .in_pixel = s,
                .in_row = fr,
                .out_pixel = e,
                .out_row = int64_t{cols} * e,
                .out_h = rows,
                .out_w = cols};
      // Channel `offset` of the Fire's output, where a branch writes its half.
      const auto at = [&](int offset) {
        if (out_bf16)
          io.out_bf16 = as_bf16(x.lane.buffer[out]) + offset;
        else
          io.out = x.lane.buffer[out] + offset;
      };
      for (int64_t chunk = first; chunk < last; ++chunk) {
        const int64_t team = chunk / per_team, j = chunk % per_team;
        if (j == 0) {
          io.in = f;
          at(e1->out_channels);
          // Whole register tiles of Winograd tiles per piece.
          const auto [t0, t1] = piece(tiles, k->tile_pixels, team, teams);
          if (winograd)
            k->winograd_relu(*e3, io, t0, t1, x.scratch);
          else
            k->conv_relu(*e3_direct, io, t0, t1, 0, e3_direct->blocks());
        } else {
          io.in = f + interior;
          at(0);
          const auto [p0, p1] = piece(pixels, e1_unit, team * (per_team - 1) + j - 1, e1_pieces);
          k->conv_relu(*e1, io, p0, p1, 0, e1->blocks());
        }
      }
    });
    c = e, cur = out, cur_bf16 = out_bf16;
  }

  // conv + ReLU + global average pool: per-channel sums of the ReLU'd conv, no conv output stored.
  void head(const Layer& conv) {
    const x86::KernelTable* k = plan.kernels_;
    const PackedConv* pc = pack(conv.name, conv.conv.stride, k);
    if (pc->kernel != 1) throw Error("plan: " + conv.name + " must be a 1x1 conv");
    const int pad = conv.conv.padding, in_c = c, rows = h, cols = w, in = cur;
    const int64_t padded = int64_t{h + 2 * pad} * (w + 2 * pad), border = padded - int64_t{h} * w;
    const float scale = 1.0f / static_cast<float>(padded);
    const int64_t chunks = chunks_for(pc->blocks(), 2);
    const bool in_bf16 = cur_bf16;
    add(conv.name, conv_macs(*pc, padded), chunks, [=](const Context& x, int64_t first, int64_t last) {
      const ConvIO io{.in = in_bf16 ? nullptr : x.lane.buffer[in],
                      .in_pixel = in_c,
                      .in_row = int64_t{cols} * in_c,
                      .out_h = rows,
                      .out_w = cols,
                      .in_bf16 = in_bf16 ? as_bf16(x.lane.buffer[in]) : nullptr};
      const auto [b0, b1] = pieces_span(pc->blocks(), 1, first, last, chunks);
      k->conv_relu_channel_sums(*pc, io, static_cast<int>(b0), static_cast<int>(b1), x.logits);
      // A 1x1 conv's padded border sees only zeros: there its output is relu(bias).
      for (int64_t o = b0 * avx2::kTileChannels; o < std::min<int64_t>(pc->out_channels, b1 * avx2::kTileChannels); ++o)
        x.logits[o] =
            (x.logits[o] + static_cast<float>(border) * std::max(pc->bias[static_cast<std::size_t>(o)], 0.0f)) * scale;
    });
  }
};

Plan::Plan(const Model& model, const Shape& input_shape, int threads, const x86::KernelTable* kernels)
    : input_shape_(input_shape), threads_(threads), kernels_(kernels ? kernels : kernels::fastest_kernels()),
      team_(threads) {
  check_input(model.config(), input_shape);
  if (!kernels_) throw Error("plan: this CPU lacks AVX2 + FMA; use the reference forward");
  if (threads < 1) throw Error("plan: thread count must be at least 1, got " + std::to_string(threads));
  if (input_shape[2] > (1 << 16) || input_shape[3] > (1 << 16))
    throw Error("plan: input " + shape_str(input_shape) + " is larger than 65536 pixels on a side");
  num_classes_ = model.config().num_classes;

  Builder b{*this, model, input_shape[0] % threads != 0};
  b.h = static_cast<int>(input_shape[2]), b.w = static_cast<int>(input_shape[3]);
  b.input();
  const std::vector<Layer>& layers = model.layers();
  auto is = [&](std::size_t i, Layer::Kind kind) { return i < layers.size() && layers[i].kind == kind; };
  using K = Layer::Kind;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    if (is(i, K::Conv2d) && is(i + 1, K::ReLU) && is(i + 2, K::MaxPool2d)) {
      b.stem(l, layers[i + 2]);
      i += 2;
    } else if (is(i, K::Conv2d) && is(i + 1, K::ReLU) && is(i + 2, K::AdaptiveAvgPool2d)) {
      b.head(l);
      i += 2;
    } else if (l.kind == K::MaxPool2d) {
      b.max_pool(l);
    } else if (l.kind == K::Fire) {
      b.fire(l);
    } else if (l.kind != K::Dropout) {  // dropout is the identity in eval mode
      throw Error("plan: " + l.name + " (" + kind_name(l.kind) + ") is not part of a step this plan knows");
    }
  }

  int64_t lane_floats = 0;
  for (int64_t& f : buffer_floats_) lane_floats += f = (f + 15) / 16 * 16;  // each buffer 64-byte aligned
  scratch_floats_ = (scratch_floats_ + 15) / 16 * 16;
  const int lanes = static_cast<int>(std::min<int64_t>(threads_, input_shape[0]));
  const int64_t total = lane_floats * lanes + scratch_floats_ * threads_;
  if (total > kMaxArenaFloats)
    throw Error("plan: input " + shape_str(input_shape) + " on " + std::to_string(threads_) + " threads needs " +
                std::to_string(total >> 18) + " MiB of activations, more than the 16384 MiB allowed");
  // Not value-initialised: every float is written before it is read, and untouched pages cost nothing.
  arena_floats_ = total;
  arena_ = {
      static_cast<float*>(::operator new[](static_cast<std::size_t>(total) * sizeof(float), std::align_val_t{64})),
      free_arena};
  for (int i = 0; i < lanes; ++i) {
    float* p = arena_.get() + lane_floats * i;
    Lane lane{};
    for (int k = 0; k < 3; ++k) lane.buffer[k] = p, p += buffer_floats_[k];
    lanes_.push_back(lane);
  }
  scratch_ = arena_.get() + lane_floats * lanes;
  nonfinite_ = std::make_unique<std::atomic<bool>[]>(static_cast<std::size_t>(input_shape[0]));
  claims_ = std::make_unique<Counter[]>(static_cast<std::size_t>(threads_));
  tickets_.assign(static_cast<std::size_t>(threads_) * static_cast<std::size_t>(threads_), 0);
  profile_ = StepProfile(steps_.size());
}

Plan::~Plan() = default;

int64_t Plan::packed_weight_bytes() const {
  std::size_t bytes = 0;
  for (const auto& c : convs_)
    bytes += (c->panels.size() + c->bias.size()) * sizeof(float) + c->bf16_panels.size() * sizeof(uint16_t);
  for (const auto& c : winograds_)
    bytes += (c->panels.size() + c->bias.size()) * sizeof(float) + c->bf16_panels.size() * sizeof(uint16_t);
  return static_cast<int64_t>(bytes);
}

void Plan::run(const float* input_nchw, float* logits) {
  const int64_t n_images = input_shape_[0];
  for (int u = 0; u < threads_; ++u) claims_[u].next.store(0, std::memory_order_relaxed);
  images_.next.store(0, std::memory_order_relaxed);
  for (int64_t n = 0; n < n_images; ++n) nonfinite_[static_cast<std::size_t>(n)].store(false, std::memory_order_relaxed);
  team_.run([&](int t) {
    float* scratch = scratch_ + scratch_floats_ * t;
    // As many images as divide evenly go whole to single threads, each in its own cache, claimed one at a time:
    // a thread the OS preempts holds up one image, not a fixed share of the batch.
    const int64_t alone = n_images / threads_ * threads_;
    int64_t* tickets = tickets_.data() + int64_t{t} * threads_;
    std::fill_n(tickets, threads_, 0);
    for (int64_t n; (n = images_.next.fetch_add(1, std::memory_order_relaxed)) < alone;)
      run_image(n, lanes_[static_cast<std::size_t>(t)], input_nchw, logits, scratch, t, false, tickets);
    for (int64_t n = alone; n < n_images; ++n)
      run_image(n, lanes_[0], input_nchw, logits, scratch, t, true, tickets);
  });
  for (int64_t n = 0; n < n_images; ++n)
    if (nonfinite_[static_cast<std::size_t>(n)].load(std::memory_order_relaxed))
      std::fill_n(logits + n * num_classes_, num_classes_, std::numeric_limits<float>::quiet_NaN());
}

void Plan::run_image(int64_t n, const Lane& lane, const float* input, float* logits, float* scratch, int member,
                     bool shared, int64_t* tickets) {
  const Context x{lane, input + n * 3 * input_shape_[2] * input_shape_[3], logits + n * num_classes_, scratch,
                  &nonfinite_[static_cast<std::size_t>(n)]};
  const bool timed = profile_.on() && member == 0;
  using clock = std::chrono::steady_clock;
  if (shared) team_.barrier();  // lane 0 is free of whole-image work
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    const auto start = timed ? clock::now() : clock::time_point{};
    if (shared) {
      for (int i = 0; i < threads_; ++i) {  // its own share first, then what is left of the others'
        const int u = (member + i) % threads_;
        const int64_t first = step.chunks * u / threads_, size = step.chunks * (u + 1) / threads_ - first;
        int64_t& ticket = tickets[u];
        for (int64_t k; (k = claims_[u].next.fetch_add(1, std::memory_order_relaxed) - ticket) < size;)
          step.run(x, first + k, first + k + 1);
        ticket += size + threads_;
      }
      team_.barrier();
    } else {
      step.run(x, 0, step.chunks);
    }
    if (timed) profile_.add(i, std::chrono::duration<double>(clock::now() - start).count());
  }
  if (timed) profile_.image_done();
}

}  // namespace squeezenet
