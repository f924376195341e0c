// `squeezenet classify IMAGE...`: top-k ImageNet classes per image, as text or JSON, optionally a CAM overlay.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "squeezenet/classifier.h"
#include "squeezenet/error.h"
#include "squeezenet/hub.h"
#include "squeezenet/visualize.h"

namespace squeezenet::cli {

namespace {
struct Opts {
  ClassifierSource src;
  std::string cam;
  std::vector<std::string> images;
  int top = 5;
  bool json = false;
};

std::string default_weights() {
  // Without --weights: torchvision's squeezenet1_1 from the cache, downloaded on first use.
  return fetch_official(Arch::squeezenet1_1);
}

void run(const Opts& o) {
  if (!o.cam.empty() && o.images.size() != 1) throw Error("--cam takes exactly one image");
  Classifier clf = o.src.load(default_weights);
  const int classes = clf.model().config().num_classes;

  // Decode everything first, in parallel; a file that fails is reported and skipped, the rest go on.
  std::vector<std::string> errors;
  std::vector<Image> images = decode_images(o.images, o.src.thread_count(), errors);
  std::vector<Image> ok;
  for (std::size_t i = 0; i < images.size(); ++i)
    if (errors[i].empty()) ok.push_back(std::move(images[i]));
  const auto results = ok.empty() ? std::vector<std::vector<Prediction>>{} : clf.classify(ok, o.top);

  nlohmann::ordered_json report = nlohmann::ordered_json::array();
  std::size_t next = 0;
  for (std::size_t i = 0; i < o.images.size(); ++i) {
    nlohmann::ordered_json entry{{"image", o.images[i]}};
    if (!errors[i].empty()) {
      entry["error"] = errors[i];
      // One image's failure is the run's one error line, printed on exit; of several, each gets its own.
      if (!o.json && o.images.size() > 1) std::fprintf(stderr, "squeezenet: error: %s\n", errors[i].c_str());
    } else {
      const auto& preds = results[next++];
      entry["top"] = nlohmann::ordered_json::array();
      if (!o.json) std::printf("%s\n", printable(o.images[i], kMessageBytes).c_str());
      for (const Prediction& p : preds) {
        const std::string name = class_name(p.index, classes);
        entry["top"].push_back({{"index", p.index}, {"name", name}, {"probability", p.score}});
        if (!o.json) std::printf("  %6.2f%%  %4d  %s\n", 100.0 * p.score, p.index, name.c_str());
      }
    }
    report.push_back(entry);
  }
  if (o.json) std::printf("%s\n", report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());

  if (!o.cam.empty()) {
    if (!errors[0].empty()) throw Error(errors[0]);
    const int top1 = results[0].front().index;
    const CropRegion seen = crop_region(ok[0].width, ok[0].height, clf.preset());
    write_png(overlay_heatmap(ok[0], clf.class_activation_map(ok[0], top1), seen), o.cam);
    if (!o.json)
      std::printf("class activation map of '%s' written to %s\n", class_name(top1, classes).c_str(), o.cam.c_str());
  }
  std::size_t failed = 0;
  for (const auto& e : errors) failed += !e.empty();
  if (failed > 0 && o.images.size() == 1) throw Error(errors[0]);
  if (failed > 0) throw Error(std::to_string(failed) + " of " + std::to_string(o.images.size()) + " images failed");
}
}  // namespace

void register_classify(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "classify",
      "Classify images (JPEG, PNG): top-k ImageNet classes with probabilities.\n"
      "The preprocessing is the one the weights expect (their metadata), unless --preset says otherwise.\n"
      "Without --weights, torchvision's squeezenet1_1 is downloaded once into $SQUEEZENET_HOME.");
  auto o = std::make_shared<Opts>();
  cmd->add_option("images", o->images, "Image files")->required();
  o->src.add_options(*cmd, false);
  cmd->add_option("-k,--top", o->top, "Classes to show per image")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_flag("--json", o->json, "Print JSON instead of a table");
  cmd->add_option("--cam", o->cam, "Write the image with a class-activation heat map of the top class here (PNG)");
  cmd->callback([o] { run(*o); });
}

}  // namespace squeezenet::cli
