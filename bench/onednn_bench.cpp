// SqueezeNet on oneDNN's own primitives, in fp32, bf16 or int8: the low-precision peer that bench/peers.py times
// beside us. Not part of the library. Every weight reorder happens once, before timing; the timed forward is the
// image's reorder (quantization for int8), the convs with their bias, ReLU and requantization fused as oneDNN
// fuses them, the max-pools, the Fires' concats and the global average pool.
//
// The activations are NHWC (oneDNN's brgconv kernels' layout) and the weights whatever layout each conv asks for.
// int8 is our quantization, so that both engines do the same arithmetic: s8 weights with one scale per output
// channel, u8 activations after each ReLU; the image is s8 (our u8 with zero point 128 is the same value); the final
// conv writes fp32. Its int8 parameters come from an int8 weights file, or from our quantizer on fp32 weights.
//
//   onednn_bench --arch squeezenet1_1 --batch 1 --threads 1 --precision int8 [--weights W] [--iters 30]
// prints {"seconds": [...]} (one per timed forward) and, on stderr, the implementation of each primitive;
// --check compares the logits with ours instead of timing (exit 1 when fp32 differs by more than 1e-4 relative);
// --profile prints each primitive's fastest time instead.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "squeezenet/engine.h"
#include "squeezenet/model.h"
#include "squeezenet/quantize.h"
#include "squeezenet/weights.h"

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;
using squeezenet::Conv2dSpec;
using squeezenet::Layer;
using squeezenet::Precision;

class Network {
 public:
  Network(const squeezenet::Model& model, const squeezenet::QuantizedModel* q, Precision precision, int64_t batch,
          int64_t side, bool verbose)
      : model_(model), q_(q), precision_(precision), verbose_(verbose), stream_(engine_) {
    input_ = memory({{batch, 3, side, side}, dt::f32, tag::nchw}, engine_);
    memory x = input_;
    bool first = true;
    for (const Layer& l : model.layers()) {
      switch (l.kind) {
        case Layer::Kind::Conv2d:
          x = conv(l.name, l.conv, x, first);
          first = false;
          break;
        case Layer::Kind::MaxPool2d: x = max_pool(x); break;
        case Layer::Kind::Fire: {
          const memory s = conv(l.name + ".squeeze", l.fire.squeeze_conv(), x, false);
          x = concat(conv(l.name + ".expand1x1", l.fire.expand1x1_conv(), s, false),
                     conv(l.name + ".expand3x3", l.fire.expand3x3_conv(), s, false));
          break;
        }
        case Layer::Kind::AdaptiveAvgPool2d: x = global_average_pool(x); break;
        case Layer::Kind::ReLU:     // fused into the conv before it
        case Layer::Kind::Dropout:  // the identity in eval mode
          break;
      }
    }
    output_ = x;
  }

  float* input() { return static_cast<float*>(input_.get_data_handle()); }
  const float* logits() const { return static_cast<const float*>(output_.get_data_handle()); }

  void forward() {
    for (Step& s : steps_) s.primitive.execute(stream_, s.args);
    stream_.wait();
  }

  // Each step's fastest time over `iters` forwards, as `squeezenet bench --profile` gives ours.
  void profile(int iters) {
    std::vector<double> best(steps_.size(), 1e30);
    for (int i = 0; i < iters; ++i)
      for (std::size_t k = 0; k < steps_.size(); ++k) {
        const auto start = std::chrono::steady_clock::now();
        steps_[k].primitive.execute(stream_, steps_[k].args);
        stream_.wait();
        best[k] = std::min(best[k], std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    double total = 0.0;
    std::printf("%-24s %9s  %s\n", "step", "min ms", "implementation");
    for (std::size_t k = 0; k < steps_.size(); ++k) {
      std::printf("%-24s %9.3f  %s\n", steps_[k].what.c_str(), 1e3 * best[k], steps_[k].impl.c_str());
      total += best[k];
    }
    std::printf("%-24s %9.3f\n", "sum of minima", 1e3 * total);
  }

 private:
  dt activation_type() const {
    return precision_ == Precision::int8 ? dt::u8 : precision_ == Precision::bf16 ? dt::bf16 : dt::f32;
  }

  struct Step {
    dnnl::primitive primitive;
    std::unordered_map<int, memory> args;
    std::string what, impl;
  };

  void add(dnnl::primitive p, std::unordered_map<int, memory> args, const std::string& what,
           const std::string& impl) {
    if (verbose_) std::fprintf(stderr, "%-28s %s\n", what.c_str(), impl.c_str());
    steps_.push_back({std::move(p), std::move(args), what, impl});
  }

  // A reorder run once now (weights), its result kept.
  memory reorder_once(memory from, const memory::desc& to) {
    memory out(to, engine_);
    dnnl::reorder(dnnl::reorder::primitive_desc(from, out)).execute(stream_, from, out);
    stream_.wait();
    return out;
  }

  memory conv(const std::string& name, Conv2dSpec spec, const memory& src, bool first) {
    const bool head = name.starts_with("classifier.");
    if (head) spec.padding = model_.config().final_conv_pad;
    const memory::dims sd = src.get_desc().dims();
    const int64_t N = sd[0], oh = squeezenet::conv_output_size(sd[2], spec.kernel, spec.stride, spec.padding),
                  ow = squeezenet::conv_output_size(sd[3], spec.kernel, spec.stride, spec.padding);
    const bool int8 = precision_ == Precision::int8;
    const dt src_type = first && int8 ? dt::s8 : activation_type();
    const dt weight_type = int8 ? dt::s8 : activation_type();
    const dt dst_type = head ? dt::f32 : activation_type();
    const memory::desc src_md = first ? memory::desc(sd, src_type, tag::any) : src.get_desc();
    const memory::desc w_md({spec.out_channels, spec.in_channels, spec.kernel, spec.kernel}, weight_type, tag::any);
    const memory::desc b_md({spec.out_channels}, dt::f32, tag::x);
    const memory::desc dst_md({N, spec.out_channels, oh, ow}, dst_type, tag::nhwc);
    const memory::dims strides{spec.stride, spec.stride}, pad{spec.padding, spec.padding};

    // The user's weights, f32 OIHW (for int8: the s8 values, exact in f32), and the bias in the units oneDNN
    // adds it in: int8 adds it to the int32 sum before the output scale, so it is divided by that sum's scale.
    const std::vector<float> weights = weight_values(name);
    std::vector<float> bias = bias_values(name);
    dnnl::primitive_attr attr;
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
    float image_scale = 1.0f;
    if (int8) {
      const squeezenet::QuantizedConv& c = q_->conv(name);
      std::vector<float> scales(bias.size());
      for (std::size_t o = 0; o < bias.size(); ++o) {
        const float sum_scale = c.input_scale * c.weight_scale[o];
        bias[o] /= sum_scale;
        scales[o] = head ? sum_scale : sum_scale / c.output_scale;
      }
      attr.set_output_scales(1 << 1, scales);  // per output channel (dimension 1 of dst)
      image_scale = 1.0f / c.input_scale;
    }
    const dnnl::convolution_forward::primitive_desc pd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md,
                                        w_md, b_md, dst_md, strides, pad, pad),
        attr, engine_);

    memory in = src;
    if (first) {  // the image: converted (quantized, for int8) inside the timed forward, as ours does
      in = memory(pd.src_desc(), engine_);
      dnnl::primitive_attr q;
      if (int8) q.set_output_scales(0, {image_scale});
      const dnnl::reorder::primitive_desc rpd(src, in, q);
      add(dnnl::reorder(rpd), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, in}}, "input reorder", rpd.impl_info_str());
    }
    memory user_w({{spec.out_channels, spec.in_channels, spec.kernel, spec.kernel}, dt::f32, tag::oihw}, engine_,
                  const_cast<float*>(weights.data()));
    memory user_b(b_md, engine_, bias.data());
    const memory w = reorder_once(user_w, pd.weights_desc());
    const memory b = reorder_once(user_b, b_md);
    const memory dst(pd.dst_desc(), engine_);
    add(dnnl::convolution_forward(pd), {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}},
        name, pd.impl_info_str());
    return dst;
  }

  std::vector<float> weight_values(const std::string& name) const {
    if (precision_ == Precision::int8) return {q_->conv(name).weight.begin(), q_->conv(name).weight.end()};
    const squeezenet::Tensor& t = model_.parameter(name + ".weight");
    return {t.data(), t.data() + t.numel()};
  }

  std::vector<float> bias_values(const std::string& name) const {
    if (precision_ == Precision::int8) return q_->conv(name).bias;
    const squeezenet::Tensor& t = model_.parameter(name + ".bias");
    return {t.data(), t.data() + t.numel()};
  }

  // MaxPool2d(3, 2, ceil_mode=True): the right and bottom padding that makes oneDNN's floor give PyTorch's ceil;
  // oneDNN's max-pool never picks a padded element.
  memory max_pool(const memory& src) {
    const memory::dims sd = src.get_desc().dims();
    const int64_t oh = squeezenet::pool_output_size(sd[2], 3, 2), ow = squeezenet::pool_output_size(sd[3], 3, 2);
    const memory::desc dst_md({sd[0], sd[1], oh, ow}, src.get_desc().data_type(), tag::nhwc);
    const dnnl::pooling_forward::primitive_desc pd(
        dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, src.get_desc(),
                                    dst_md, {2, 2}, {3, 3}, {0, 0}, {(oh - 1) * 2 + 3 - sd[2], (ow - 1) * 2 + 3 - sd[3]}),
        engine_);
    const memory dst(pd.dst_desc(), engine_);
    add(dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, "max-pool", pd.impl_info_str());
    return dst;
  }

  memory concat(const memory& a, const memory& b) {
    const dnnl::concat::primitive_desc pd(1, {a.get_desc(), b.get_desc()}, engine_);
    const memory dst(pd.dst_desc(), engine_);
    add(dnnl::concat(pd), {{DNNL_ARG_MULTIPLE_SRC, a}, {DNNL_ARG_MULTIPLE_SRC + 1, b}, {DNNL_ARG_DST, dst}}, "concat",
        pd.impl_info_str());
    return dst;
  }

  memory global_average_pool(const memory& src) {
    const memory::dims sd = src.get_desc().dims();
    const memory::desc dst_md({sd[0], sd[1], 1, 1}, dt::f32, tag::nhwc);  // the same bytes as NC
    const dnnl::pooling_forward::primitive_desc pd(
        dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_avg_exclude_padding,
                                    src.get_desc(), dst_md, {1, 1}, {sd[2], sd[3]}, {0, 0}, {0, 0}),
        engine_);
    const memory dst(pd.dst_desc(), engine_);
    add(dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, "global average pool",
        pd.impl_info_str());
    return dst;
  }

  const squeezenet::Model& model_;
  const squeezenet::QuantizedModel* q_;
  Precision precision_;
  bool verbose_;
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_;
  memory input_, output_;
  std::vector<Step> steps_;
};

// The logits of both engines on the same seeded input: max |difference| against the largest logit, and top-1.
int check(Network& net, const squeezenet::Model& model, Precision precision, const squeezenet::Tensor& x) {
  squeezenet::Engine ours(model, squeezenet::EngineOptions{1, precision});
  const squeezenet::Tensor mine = ours.forward(x);
  std::copy(x.data(), x.data() + x.numel(), net.input());
  net.forward();
  const int64_t N = mine.dim(0), K = mine.dim(1);
  float diff = 0.0f, largest = 0.0f;
  int64_t same = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* a = mine.data() + n * K;
    const float* b = net.logits() + n * K;
    for (int64_t k = 0; k < K; ++k) {
      diff = std::max(diff, std::abs(a[k] - b[k]));
      largest = std::max(largest, std::abs(a[k]));
    }
    same += std::max_element(a, a + K) - a == std::max_element(b, b + K) - b;
  }
  std::printf("%s: max |ours - oneDNN| = %.3g (largest logit %.3g), same top-1 on %lld of %lld\n",
              squeezenet::precision_name(precision).c_str(), diff, largest, static_cast<long long>(same),
              static_cast<long long>(N));
  return precision == Precision::fp32 && !(diff <= 1e-4f * std::max(1.0f, largest)) ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SqueezeNet on oneDNN's primitives (fp32, bf16, int8): the peer that bench/peers.py times"};
  std::string arch = "squeezenet1_1", weights, precision_text = "fp32";
  int64_t batch = 1, side = 224;
  int threads = 1, iters = 30;
  bool verbose = false, check_logits = false, profile = false;
  app.add_option("--arch", arch, "squeezenet1_0 | squeezenet1_1 (random weights, when no --weights)");
  app.add_option("-w,--weights", weights, "Weights file (any format; int8 files give their own quantization)");
  app.add_option("--precision", precision_text, "fp32 | bf16 | int8");
  app.add_option("--batch", batch)->check(CLI::Range(1, 4096));
  app.add_option("--input", side, "Image side")->check(CLI::Range(32, 1024));
  app.add_option("--threads", threads)->check(CLI::Range(1, 1024));
  app.add_option("--iters", iters, "Timed forwards")->check(CLI::Range(1, 100000));
  app.add_flag("--verbose", verbose, "Print each primitive's oneDNN implementation on stderr");
  app.add_flag("--check", check_logits, "Compare the logits with ours on a seeded input instead of timing");
  app.add_flag("--profile", profile, "Time every primitive alone and print each one's fastest time");
  const dnnl_version_t* v = dnnl_version();
  app.set_version_flag("--version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                        std::to_string(v->patch));
  CLI11_PARSE(app, argc, argv);
  try {
    const Precision precision = squeezenet::parse_precision(precision_text);
    omp_set_num_threads(threads);
    squeezenet::ModelConfig config;
    config.arch = squeezenet::parse_arch(arch);
    const squeezenet::Model model = weights.empty() ? squeezenet::Model(config, 1)
                                                    : squeezenet::Model::from_weights(squeezenet::load_weights(weights),
                                                                                      weights);
    std::shared_ptr<const squeezenet::QuantizedModel> q;
    if (precision == Precision::int8) q = squeezenet::quantization_or_synthetic(model);
    Network net(model, q.get(), precision, batch, side, verbose);

    squeezenet::Tensor x({batch, 3, side, side});
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = uniform(rng);
    if (check_logits) return check(net, model, precision, x);

    std::copy(x.data(), x.data() + x.numel(), net.input());
    for (int i = 0; i < 2; ++i) net.forward();
    if (profile) {
      net.profile(iters);
      return 0;
    }
    std::string out = "{\"seconds\": [";
    for (int i = 0; i < iters; ++i) {
      const auto start = std::chrono::steady_clock::now();
      net.forward();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      out += (i ? ", " : "") + std::to_string(s);
    }
    std::printf("%s]}\n", out.c_str());
    return 0;
  } catch (const dnnl::error& e) {
    std::fprintf(stderr, "onednn_bench: oneDNN refused: %s (status %d)\n", e.what(), static_cast<int>(e.status));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onednn_bench: %s\n", e.what());
  }
  return 1;
}
