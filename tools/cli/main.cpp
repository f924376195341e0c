// The `squeezenet` command: a thin layer over the library; errors become one line on stderr and exit 1.
#include <iostream>

#include "commands.h"
#include "squeezenet/error.h"
#include "squeezenet/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "squeezenet: SqueezeNet 1.0 / 1.1 inference, exact to torchvision, for CPUs.\n"
      "Weights: .safetensors, torchvision .pth (zip or legacy), Caffe .caffemodel, Deep-Compression .net,\n"
      "ncnn .param/.bin, a folder of ONNX-zoo .npy files.",
      "squeezenet"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "squeezenet.cpp " SQUEEZENET_VERSION);
  squeezenet::cli::register_info(app);
  squeezenet::cli::register_predict(app);
  squeezenet::cli::register_convert(app);
  squeezenet::cli::register_fetch(app);
  squeezenet::cli::register_classify(app);
  squeezenet::cli::register_eval(app);
  squeezenet::cli::register_bench(app);
  squeezenet::cli::register_train(app);
  squeezenet::cli::register_finetune(app);
  squeezenet::cli::register_compress(app);
  squeezenet::cli::register_serve(app);
  squeezenet::cli::register_quantize(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // An Error is printable already; anything else (a library's own exception) may quote input raw.
    std::cerr << "squeezenet: error: " << squeezenet::printable(e.what(), squeezenet::kMessageBytes) << "\n";
    return 1;
  }
  return 0;
}
