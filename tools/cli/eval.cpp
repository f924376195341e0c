// `squeezenet eval DIR`: top-1 / top-5 accuracy over a labelled folder, with progress, a per-class CSV,
// per-image predictions and a one-line JSON summary.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "squeezenet/classifier.h"
#include "squeezenet/dataset.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet::cli {

namespace {
struct Opts {
  ClassifierSource src;
  std::string dir, csv, predictions;
  int batch = 32, every = 1, limit = 0;
  bool quiet = false;
};

struct ClassTally {
  int images = 0, top1 = 0, top5 = 0;
};

void progress(std::size_t done, std::size_t total, double seconds, int top1) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  const int width = 30, filled = static_cast<int>(width * done / std::max<std::size_t>(total, 1));
  std::fprintf(stderr, "\r[%s%s] %zu/%zu  %.1f img/s  ETA %.0fs  top-1 %.1f%%   ", std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(), done, total, rate, eta,
               done ? 100.0 * top1 / static_cast<double>(done) : 0.0);
}

void run(const Opts& o) {
  Classifier clf = o.src.load();
  LabelledFolder folder = scan_labelled_folder(o.dir);
  const int classes = clf.model().config().num_classes;
  if (static_cast<int>(folder.class_names.size()) > classes)
    throw Error(o.dir + ": " + std::to_string(folder.class_names.size()) + " classes, but the model has " +
                std::to_string(classes) + " outputs");
  std::vector<LabelledImage> items;
  for (std::size_t i = 0; i < folder.images.size(); i += static_cast<std::size_t>(o.every))
    if (o.limit == 0 || static_cast<int>(items.size()) < o.limit) items.push_back(folder.images[i]);

  std::vector<ClassTally> tally(static_cast<std::size_t>(classes));
  std::ostringstream per_image;
  per_image << "path,label,top1,top5,top1_probability\n";
  int top1 = 0, top5 = 0, failed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t at = 0; at < items.size(); at += static_cast<std::size_t>(o.batch)) {
    const std::size_t n = std::min(static_cast<std::size_t>(o.batch), items.size() - at);
    std::vector<std::string> paths, errors;
    for (std::size_t i = 0; i < n; ++i) paths.push_back(items[at + i].path);
    std::vector<Image> images = decode_images(paths, o.src.thread_count(), errors);
    std::vector<Image> ok;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < n; ++i) {
      if (!errors[i].empty()) {
        ++failed;
        std::fprintf(stderr, "\nsqueezenet: skipped: %s\n", errors[i].c_str());
        continue;
      }
      ok.push_back(std::move(images[i]));
      which.push_back(at + i);
    }
    const auto preds = ok.empty() ? std::vector<std::vector<Prediction>>{} : clf.classify(ok, 5);
    for (std::size_t j = 0; j < preds.size(); ++j) {
      const LabelledImage& item = items[which[j]];
      ClassTally& t = tally[static_cast<std::size_t>(item.label)];
      ++t.images;
      const bool hit1 = preds[j][0].index == item.label;
      bool hit5 = false;
      std::string five;
      for (const Prediction& p : preds[j]) {
        hit5 = hit5 || p.index == item.label;
        five += (five.empty() ? "" : " ") + std::to_string(p.index);
      }
      t.top1 += hit1;
      t.top5 += hit5;
      top1 += hit1;
      top5 += hit5;
      nlohmann::json quoted = item.path;
      per_image << quoted.dump() << ',' << item.label << ',' << preds[j][0].index << ',' << five << ','
                << preds[j][0].score << '\n';
    }
    if (!o.quiet)
      progress(at + n, items.size(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
               top1);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.quiet) std::fprintf(stderr, "\n");

  if (!o.csv.empty()) {
    std::ostringstream csv;
    csv << "label,class,name,images,top1,top5,top1_accuracy,top5_accuracy\n";
    for (std::size_t k = 0; k < tally.size(); ++k) {
      const ClassTally& t = tally[k];
      if (t.images == 0) continue;
      nlohmann::json name = class_name(static_cast<int>(k), classes);
      csv << k << ',' << (k < folder.class_names.size() ? folder.class_names[k] : "") << ',' << name.dump() << ','
          << t.images << ',' << t.top1 << ',' << t.top5 << ',' << static_cast<double>(t.top1) / t.images << ','
          << static_cast<double>(t.top5) / t.images << '\n';
    }
    write_file_atomic(o.csv, csv.str());
  }
  if (!o.predictions.empty()) write_file_atomic(o.predictions, per_image.str());

  const int scored = static_cast<int>(items.size()) - failed;
  nlohmann::ordered_json summary{{"weights", o.src.weights},
                                 {"arch", arch_name(clf.model().config().arch)},
                                 {"preset", preset_name(clf.preset())},
                                 {"final_conv_pad", clf.model().config().final_conv_pad},
                                 {"precision", precision_name(clf.engine().precision())},
                                 {"kernels", clf.engine().kernel_family()},
                                 {"folder", o.dir},
                                 {"layout", folder.layout},
                                 {"images", scored},
                                 {"failed", failed},
                                 {"top1", scored ? static_cast<double>(top1) / scored : 0.0},
                                 {"top5", scored ? static_cast<double>(top5) / scored : 0.0},
                                 {"top1_correct", top1},
                                 {"top5_correct", top5},
                                 {"seconds", seconds},
                                 {"images_per_second", seconds > 0 ? scored / seconds : 0.0}};
  std::printf("%s\n", summary.dump().c_str());
  if (scored == 0) throw Error(o.dir + ": no image could be decoded");
}
}  // namespace

void register_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "eval",
      "Top-1/top-5 accuracy over a labelled folder: class subfolders (ImageFolder; ImageNet wnid folders map to\n"
      "ImageNet indices) or image files named by wnid (n01440764_tench.JPEG). Prints progress on stderr and one\n"
      "JSON summary line on stdout. Unreadable images are reported, skipped and counted in \"failed\".");
  auto o = std::make_shared<Opts>();
  cmd->add_option("dir", o->dir, "Labelled image folder")->required();
  o->src.add_options(*cmd, true);
  cmd->add_option("--csv", o->csv, "Write per-class accuracy here (CSV)");
  cmd->add_option("--predictions", o->predictions, "Write each image's label and top-5 here (CSV)");
  cmd->add_option("--batch", o->batch, "Images per forward")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--every", o->every, "Use every k-th image only")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--limit", o->limit, "Stop after this many images (0 = all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_flag("-q,--quiet", o->quiet, "No progress bar");
  cmd->callback([o] { run(*o); });
}

}  // namespace squeezenet::cli
