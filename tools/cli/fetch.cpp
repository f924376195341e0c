// `squeezenet fetch`: the official torchvision weights into the cache, hash-checked.
#include <cstdio>

#include "commands.h"
#include "squeezenet/hub.h"

namespace squeezenet::cli {

void register_fetch(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "fetch", "Download torchvision's official weights (squeezenet1_0 | squeezenet1_1) into $SQUEEZENET_HOME "
               "(default ~/.cache/squeezenet), verifying the SHA-256 their file names carry; prints the path");
  struct Opts {
    std::string arch, url = kTorchvisionModelsUrl, dir = cache_dir();
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("arch", o->arch, "squeezenet1_0 or squeezenet1_1")->required();
  cmd->add_option("--url", o->url, "Base URL to download from (http, https or file://)")->capture_default_str();
  cmd->add_option("--dir", o->dir, "Cache folder")->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "No progress output");
  cmd->callback([o] { std::printf("%s\n", fetch_official(parse_arch(o->arch), o->url, o->dir, !o->quiet).c_str()); });
}

}  // namespace squeezenet::cli
