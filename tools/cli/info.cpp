// `squeezenet info`: torchvision's module list with output shapes, parameters and MACs.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "formats/sqz.h"
#include "sqz_report.h"
#include "squeezenet/error.h"

namespace squeezenet::cli {

namespace {
std::string grouped(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}
}  // namespace

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print the network layer by layer: output shape, parameters, MACs (and for a .sqz, its bytes by layer and part)");
  auto src = std::make_shared<ModelSource>();
  auto input = std::make_shared<int>(224);
  src->add_options(*cmd);
  cmd->add_option("--input", *input, "Input height and width")->capture_default_str()->check(CLI::Range(1, 16384));
  cmd->callback([src, input] {
    std::map<std::string, std::string> meta;
    const Model model = src->load(&meta);
    const ModelConfig& c = model.config();
    std::printf("%s, %d classes, dropout %.2f%s\n", arch_name(c.arch).c_str(), c.num_classes, c.dropout,
                c.final_conv_pad ? ", final conv pad 1 (Caffe v1.0 head)" : "");
    for (const auto& [k, v] : meta)
      std::printf("  %s: %s\n", printable(k).c_str(), printable(v, kMessageBytes).c_str());
    std::printf("%-14s %-18s %-18s %12s %15s\n", "layer", "type", "output", "params", "MACs");
    int64_t params = 0, macs = 0;
    for (const LayerSummary& r : summarize(c, *input, *input)) {
      std::printf("%-14s %-18s %-18s %12s %15s\n", r.name.c_str(), r.type.c_str(), shape_str(r.output).c_str(),
                  grouped(r.params).c_str(), grouped(r.macs).c_str());
      params += r.params;
      macs += r.macs;
    }
    std::printf("%-14s %-18s %-18s %12s %15s\n", "total", "", "", grouped(params).c_str(), grouped(macs).c_str());
    std::printf("parameters: %s (%.2f MB as float32)\n", grouped(model.num_parameters()).c_str(),
                static_cast<double>(model.num_parameters()) * 4.0 / 1e6);
    if (!src->weights.empty() && detect_format(src->weights) == Format::sqz) {
      SqzStats stats;
      read_sqz(src->weights, &stats);
      std::printf("\n%s: %llu bytes\n", src->weights.c_str(), static_cast<unsigned long long>(stats.file_bytes));
      print_sqz_report(stats);
    }
  });
}

}  // namespace squeezenet::cli
