// `squeezenet bench`: forward latency and throughput on random input, against this machine's own peak of the
// unit the kernels run on (FMA for fp32).
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <thread>

#include "commands.h"
#include "common.h"
#include "kernels/dispatch.h"
#include "kernels/x86/kernel_table.h"
#include "kernels/x86/int8_table.h"
#include "model/int8_plan.h"
#include "model/plan.h"
#include "squeezenet/engine.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"
#include "util/rng.h"

namespace squeezenet::cli {

namespace {

// All `threads` cores running the peak loop of the kernels in use at once: what "100 %" means for that thread
// count.
double peak_gflops(double (*loop)(double seconds), int threads) {
  std::vector<double> each(static_cast<std::size_t>(threads));
  std::vector<std::thread> team;
  for (int i = 0; i < threads; ++i)
    team.emplace_back([&each, loop, i] { each[static_cast<std::size_t>(i)] = loop(0.3); });
  for (std::thread& t : team) t.join();
  return std::accumulate(each.begin(), each.end(), 0.0);
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// What bench times and reports on, at any precision: a plan, or the reference forward where the CPU has no
// kernels (then there is no peak and no profile).
struct Subject {
  std::function<void()> forward;
  std::string family;
  std::string paths = {};  // how the family runs these weights, where that varies
  const char* unit = nullptr;
  double (*peak_loop)(double seconds) = nullptr;  // GFLOP/s (2 per multiply-add) on one thread
  std::function<void(bool)> set_profiling = nullptr;
  std::function<std::vector<StepTime>()> profile = nullptr;
  int64_t packed_bytes = 0, arena_bytes = 0;
};

Subject fp32_subject(const Model& model, const Shape& shape, int threads, const x86::KernelTable* fast, Tensor& x,
                     Tensor& logits) {
  if (!fast) {
    auto engine = std::make_shared<Engine>(model, threads);
    return {.forward = [engine, &x, &logits] { logits = engine->forward(x); }, .family = "reference-fp32"};
  }
  auto plan = std::make_shared<Plan>(model, shape, threads, fast);
  return {[plan, &x, &logits] { plan->run(x.data(), logits.data()); },
          fast->family,
          "",
          fast->peak_unit,
          fast->peak_gflops,
          [plan](bool on) { plan->set_profiling(on); },
          [plan] { return plan->profile(); },
          plan->packed_weight_bytes(),
          plan->arena_bytes()};
}

double vnni_peak_gflops(double seconds) { return 2.0 * x86::int8::fastest()->peak_gmacs(seconds); }

// The model's own quantization, or one made here on synthetic images (saying so): as fast as a calibrated file with
// as many weight bits.
Subject int8_subject(const Model& model, const Shape& shape, int threads, Tensor& x, Tensor& logits) {
  const x86::int8::KernelTable* fast = x86::int8::fastest();
  note_on_the_fly_quantization(model, Precision::int8);
  if (!fast) {
    auto engine = std::make_shared<Engine>(model, EngineOptions{.threads = threads, .precision = Precision::int8});
    return {.forward = [engine, &x, &logits] { logits = engine->forward(x); }, .family = "reference-int8"};
  }
  const std::shared_ptr<const QuantizedModel> q = quantization_or_synthetic(model);
  auto plan = std::make_shared<QuantizedPlan>(*q, shape, threads, fast);
  std::string paths;
  if (fast == &x86::int8::int8_avx2_kernels) {
    // Without VNNI the weights decide the speed: see PackedConv::pairs_fit_16 and quad_pairs_fit_16.
    const QuantizedPlan::Paths n = plan->conv_paths();
    paths = "Winograd F(2x2, 3x3) on " + std::to_string(n.winograd) + " convs; vpmaddubsw two quads a step on " +
            std::to_string(n.quad_pairs_fit) + " (weight quads within its 16 bits, as 6-bit weights are), one on " +
            std::to_string(n.pairs_fit) + " (weight pairs within them, as 7-bit weights are); widened to "
            "vpmaddwd on " + std::to_string(n.widened);
  }
  return {[plan, q, &x, &logits] { plan->run(x.data(), logits.data()); },
          fast->isa,
          paths,
          fast == &x86::int8::int8_avx2_kernels ? "AVX2 vpmaddubsw + vpmaddwd" : "vpdpbusd",
          vnni_peak_gflops,
          [plan](bool on) { plan->set_profiling(on); },
          [plan] { return plan->profile(); },
          plan->packed_weight_bytes(),
          plan->arena_bytes()};
}

struct Opts {
  ModelSource src;
  PrecisionOption precision;
  int batch = 1, threads = 0, iters = 20, input = 224;
  bool profile = false, runs = false;
};

void bench(const Opts& o) {
  const Precision precision = o.precision.get();
  const x86::KernelTable* fast = precision == Precision::int8 ? nullptr : kernels::fastest_kernels(precision);
  const Model model = o.src.load();
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  const Shape shape{o.batch, 3, o.input, o.input};
  int64_t macs = 0;
  for (const LayerSummary& r : summarize(model.config(), o.input, o.input)) macs += r.macs;

  Tensor x(shape);
  Rng rng(1);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(rng.uniform(-2.0, 2.0));
  Tensor logits({o.batch, model.config().num_classes});

  Subject subject = precision == Precision::int8 ? int8_subject(model, shape, threads, x, logits)
                                                 : fp32_subject(model, shape, threads, fast, x, logits);
  std::printf("%s, input %s, %d thread%s, %.1f M MACs per image, %s kernels%s%s\n",
              arch_name(model.config().arch).c_str(), shape_str(shape).c_str(), threads, threads == 1 ? "" : "s",
              static_cast<double>(macs) / 1e6, subject.family.c_str(), subject.paths.empty() ? "" : ": ",
              subject.paths.c_str());
  const double peak = subject.peak_loop ? peak_gflops(subject.peak_loop, threads) : 0.0;
  if (subject.peak_loop)
    std::printf("peak (%s loop on %d thread%s): %.1f GFLOP/s\n", subject.unit, threads, threads == 1 ? "" : "s", peak);
  const auto forward = subject.forward;

  for (int i = 0; i < 2; ++i) forward();  // first touches of buffers and caches
  if (subject.set_profiling) subject.set_profiling(o.profile);
  std::vector<double> seconds;
  for (int i = 0; i < o.iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    forward();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::vector<double> order = seconds;
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double gflops = 2.0 * static_cast<double>(macs) * o.batch / median / 1e9;
  std::printf("latency per batch of %d: min %.3f ms, median %.3f ms, max %.3f ms (%d runs)\n", o.batch,
              seconds.front() * 1e3, median * 1e3, seconds.back() * 1e3, o.iters);
  std::printf("throughput: %.1f images/s, %.1f GFLOP/s", o.batch / median, gflops);
  if (subject.peak_loop) std::printf(", %.1f %% of peak", 100.0 * gflops / peak);
  std::printf("\npeak RSS: %.1f MiB", peak_rss_mib());
  if (subject.profile) {
    const int64_t weights = model.num_parameters() * static_cast<int64_t>(sizeof(float));
    const auto mib = [](int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); };
    std::printf(" (weights %.1f MiB, packed for the kernels %.1f MiB, activations and scratch %.1f MiB)",
                mib(weights), mib(subject.packed_bytes), mib(subject.arena_bytes));
  }
  std::printf("\n");
  if (o.runs) {
    std::printf("runs (s):");
    for (double s : order) std::printf(" %.6f", s);
    std::printf("\n");
  }

  if (subject.profile && o.profile) {
    const std::vector<StepTime> steps = subject.profile();
    double total = 0.0;
    for (const StepTime& s : steps) total += s.seconds;
    double total_min = 0.0;
    for (const StepTime& s : steps) total_min += s.min_seconds;
    // GFLOP/s from the minimum: on a shared machine the fastest run is the one least disturbed.
    std::printf("\n%-22s %9s %9s %9s %9s %7s\n", "step", "mean ms", "min ms", "MMACs", "GFLOP/s", "% time");
    for (const StepTime& s : steps)
      std::printf("%-22s %9.3f %9.3f %9.1f %9.1f %7.1f\n", s.name.c_str(), s.seconds * 1e3, s.min_seconds * 1e3,
                  static_cast<double>(s.macs) / 1e6,
                  s.macs ? 2.0 * static_cast<double>(s.macs) / s.min_seconds / 1e9 : 0.0, 100.0 * s.seconds / total);
    std::printf("%-22s %9.3f %9.3f\n", "total", total * 1e3, total_min * 1e3);
  }
}

}  // namespace

void register_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Time the forward pass on random input (random weights unless --weights)");
  auto o = std::make_shared<Opts>();
  o->src.add_options(*cmd);
  o->precision.add_option(*cmd);
  cmd->add_option("--batch", o->batch, "Images per forward")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", o->threads, "Worker threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--iters", o->iters, "Timed forwards")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--input", o->input, "Input height and width")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_flag("--profile", o->profile, "Time every step of the plan");
  cmd->add_flag("--runs", o->runs, "Also print every timed forward's seconds, in order, for scripts");
  cmd->callback([o] { bench(*o); });
}

}  // namespace squeezenet::cli
