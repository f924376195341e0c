// `squeezenet convert IN OUT`: any readable weights to a writable format (the network itself, for .onnx),
// validated on the way.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "squeezenet/quantize.h"

namespace squeezenet::cli {

void register_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "convert", "Convert weights between formats (writes .safetensors, .pth, .caffemodel, .sqz, .net, .onnx)");
  struct Opts {
    std::string in, out, from, to, preset;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("input", o->in, "Weights to read")->required();
  cmd->add_option("output", o->out, "File to write; its extension picks the format unless --to is given")->required();
  cmd->add_option("--from", o->from, "Input format, when the name does not tell");
  cmd->add_option("--to", o->to,
                  "Output format: safetensors | pth | caffemodel | sqz | deep-compression | onnx (an opset-13 graph with "
                  "dynamic batch)");
  cmd->add_option("--preset", o->preset, "Record this preprocessing preset in the output's metadata");
  cmd->callback([o] {
    WeightFile wf = o->from.empty() ? load_weights(o->in) : load_weights(o->in, parse_format(o->from));
    const Model model = Model::from_weights(wf, o->in);  // refuse to write anything that would not load
    WeightFile out = model.to_weights(o->preset.empty() ? wf.metadata["preset"] : o->preset);
    if (wf.metadata.count("source")) out.metadata["source"] = wf.metadata["source"];
    out.codebooks = std::move(wf.codebooks);  // so that re-encoding a weight-shared file keeps its codes
    const Format format = o->to.empty() ? format_for_output(o->out) : parse_format(o->to);
    // ONNX can say int8 (the QDQ form); the other formats get the fp32 weights the int8 ones stand for.
    if (model.quantization() && format == Format::onnx) out = to_weights(*model.quantization(), out.metadata);
    save_weights(out, o->out, format);
    std::printf("wrote %s (%s, %s, %d classes)\n", o->out.c_str(), format_name(format).c_str(),
                arch_name(model.config().arch).c_str(), model.config().num_classes);
  });
}

}  // namespace squeezenet::cli
