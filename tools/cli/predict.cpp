// `squeezenet predict`: logits for a raw tensor, so outputs can be checked against other engines bit for bit.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "common.h"
#include "formats/readers.h"
#include "squeezenet/engine.h"
#include "squeezenet/error.h"
#include "squeezenet/outputs.h"
#include "util/io.h"

namespace squeezenet::cli {

namespace {
Tensor read_input(const std::string& path, const std::string& shape_text) {
  if (path.size() > 4 && path.substr(path.size() - 4) == ".npy") return read_npy(path);
  if (shape_text.empty()) throw Error(path + ": a raw float32 input needs --shape N,3,H,W");
  const Shape shape = parse_shape(shape_text);
  const std::string bytes = read_file(path);
  if (bytes.size() != static_cast<uint64_t>(numel_of(shape)) * sizeof(float))
    throw Error(path + ": holds " + std::to_string(bytes.size()) + " bytes, shape " + shape_str(shape) + " needs " +
                std::to_string(numel_of(shape) * 4) + " (raw little-endian float32, NCHW)");
  return Tensor(shape, reinterpret_cast<const float*>(bytes.data()));
}
}  // namespace

void register_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Run the network on a raw NCHW float32 tensor (.bin or .npy), print logits");
  struct Opts {
    ModelSource src;
    PrecisionOption precision;
    std::string input, shape, output;
    int top = 5;
  };
  auto o = std::make_shared<Opts>();
  o->src.add_options(*cmd);
  o->precision.add_option(*cmd);
  cmd->add_option("-i,--input", o->input, "Input tensor: raw little-endian float32 (with --shape) or .npy")
      ->required();
  cmd->add_option("--shape", o->shape, "Shape of a raw input, e.g. 1,3,224,224");
  cmd->add_option("-o,--output", o->output, "Write the logits here as raw float32 [N, classes]");
  cmd->add_option("--top", o->top, "How many classes to print per image")->capture_default_str();
  cmd->callback([o] {
    const Precision precision = o->precision.get();
    const Model model = o->src.load();
    Tensor x = read_input(o->input, o->shape);
    note_on_the_fly_quantization(model, precision);
    // fp32 runs the reference forward, the one to check other engines against.
    const Tensor logits =
        precision == Precision::fp32 ? model.forward(x) : Engine(model, {.precision = precision}).forward(x);
    if (!o->output.empty())
      write_file_atomic(o->output, std::string_view(reinterpret_cast<const char*>(logits.data()),
                                                    static_cast<std::size_t>(logits.numel()) * sizeof(float)));
    const int64_t n = logits.dim(0), k = logits.dim(1);
    for (int64_t i = 0; i < n; ++i) {
      std::printf("image %lld:", static_cast<long long>(i));
      for (const Prediction& p : top_k(logits.data() + i * k, static_cast<int>(k), o->top))
        std::printf("  %d (%.4f)", p.index, p.score);
      std::printf("\n");
    }
  });
}

}  // namespace squeezenet::cli
