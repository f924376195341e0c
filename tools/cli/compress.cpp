// `squeezenet compress`: Deep Compression (prune, share weights, Huffman-code) of any weights into a .sqz.
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "compress/compress.h"
#include "compress/retrain.h"
#include "squeezenet/dataset.h"
#include "formats/sqz.h"
#include "sqz_report.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet::cli {

void register_compress(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compress",
      "Prune, share weights (k-means) and entropy-code any SqueezeNet weights into a .sqz file.\n"
      "Without --density nothing is pruned (zeros already there stay zeros); without --bits nothing is shared,\n"
      "and a layer with at most 255 distinct values is coded losslessly with those values as its codebook.");
  struct Opts {
    std::string weights, out, bits, density, init = "linear", tune;
    bool half = false;
    uint64_t seed = 1;
    int epochs = 2, tune_every = 1;
    double lr = 1e-4;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("-w,--weights", o->weights, "Weights to compress (any format `info` reads)")->required();
  cmd->add_option("-o,--out", o->out, "The .sqz file to write")->required();
  cmd->add_option("--bits", o->bits,
                  "Weight-sharing code width, 1-8: N for every layer, and/or per layer (6,classifier.1=5)");
  cmd->add_option("--density", o->density,
                  "Fraction of weights kept: a global target (0.33) spread over layers like the authors' file "
                  "(dense 1x1s and conv1, expand3x3 ~1/3, final conv ~1/5), and/or per layer (features.3.squeeze=0.5,...)");
  cmd->add_option("--init", o->init, "k-means start: linear | density | forgy | kmeans++")->capture_default_str();
  cmd->add_flag("--fp16", o->half, "Round codebooks and biases to float16");
  cmd->add_option("--seed", o->seed, "Seed of the random k-means starts")->capture_default_str();
  cmd->add_option("--tune", o->tune,
                  "Retrain the shared layers' centroids on these images (a folder eval reads), distilled from the "
                  "uncompressed model's outputs: no labels are used");
  cmd->add_option("--tune-every", o->tune_every,
                  "Tune on every k-th image of the sorted folder, from the first (2: the even positions)")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--epochs", o->epochs, "Passes over the tuning images")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--lr", o->lr, "Learning rate of the centroids and biases (SGD, momentum 0.9)")->capture_default_str();
  cmd->callback([o] {
    const auto start = std::chrono::steady_clock::now();
    WeightFile in = load_weights(o->weights);
    const Model model = Model::from_weights(in, o->weights);
    const ModelConfig& config = model.config();
    WeightFile base = model.to_weights(in.metadata["preset"]);
    if (in.metadata.count("source")) base.metadata["source"] = in.metadata["source"];
    base.codebooks = std::move(in.codebooks);

    CompressOptions options;
    if (!o->density.empty()) options.density = parse_per_layer(o->density, config, "--density", true);
    if (!o->bits.empty())
      for (const auto& [layer, b] : parse_per_layer(o->bits, config, "--bits", false)) {
        if (b != static_cast<int>(b) || b < 1 || b > 8) throw Error("--bits " + layer + ": must be 1 to 8");
        options.bits[layer] = static_cast<int>(b);
      }
    options.init = parse_kmeans_init(o->init);
    options.half = o->half;
    options.seed = o->seed;
    WeightFile out = compress_weights(base, config, options);
    if (!o->tune.empty()) {
      const LabelledFolder folder = scan_labelled_folder(o->tune);
      std::vector<LabelledImage> images;
      for (std::size_t i = 0; i < folder.images.size(); i += static_cast<std::size_t>(o->tune_every))
        images.push_back(folder.images[i]);
      RetrainOptions ro;
      ro.epochs = o->epochs;
      ro.lr = o->lr;
      ro.preset = parse_preset(in.metadata.count("preset") ? in.metadata["preset"] : "torchvision");
      std::printf("tuning the centroids on %zu images of %s\n", images.size(), o->tune.c_str());
      tune_centroids(out, model, images, ro, [](int epoch, double loss) {
        std::printf("epoch %d: distillation loss %.4f\n", epoch + 1, loss);
        std::fflush(stdout);
      });
    }
    Model::from_weights(out, o->out);  // never write a file that would not load
    SqzStats stats;
    const std::string bytes = write_sqz(out, &stats);
    write_file_atomic(o->out, bytes);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    print_sqz_report(stats);
    const auto load_start = std::chrono::steady_clock::now();
    Model::from_weights(load_weights(o->out), o->out);
    const double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    std::printf("wrote %s: %zu bytes in %.2f s; it loads (read, check, decode, validate) in %.1f ms\n",
                o->out.c_str(), bytes.size(), seconds, load * 1e3);
  });
}

}  // namespace squeezenet::cli
