#pragma once
// Each subcommand lives in its own file and registers itself on the app here.
#include <CLI/CLI.hpp>

namespace squeezenet::cli {

void register_info(CLI::App& app);
void register_predict(CLI::App& app);
void register_convert(CLI::App& app);
void register_fetch(CLI::App& app);
void register_classify(CLI::App& app);
void register_eval(CLI::App& app);
void register_bench(CLI::App& app);
void register_train(CLI::App& app);
void register_finetune(CLI::App& app);
void register_compress(CLI::App& app);
void register_serve(CLI::App& app);
void register_quantize(CLI::App& app);

}  // namespace squeezenet::cli
