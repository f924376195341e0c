// `squeezenet compress`: Deep Compression (prune, share weights, Huffman-code) of any weights into a .sqz.
#include <chrono>
#include <cstdio>
#include <optional>

#include "commands.h"
#include "common.h"
#include "compress/compress.h"
#include "compress/conv_moments.h"
#include "compress/retrain.h"
#include "compress/sweep.h"
#include "squeezenet/dataset.h"
#include "formats/sqz.h"
#include "sqz_report.h"
#include "squeezenet/error.h"
#include "util/io.h"

namespace squeezenet::cli {
namespace {
// The --teacher model, which must compute the student's function: the same architecture and classes.
Model load_teacher(const std::string& path, const ModelConfig& student) {
  Model teacher = Model::from_weights(load_weights(path), path);
  const ModelConfig& c = teacher.config();
  if (c.arch != student.arch || c.num_classes != student.num_classes)
    throw Error(path + ": a teacher must be " + arch_name(student.arch) + " with " +
                std::to_string(student.num_classes) + " classes like --weights; it is " + arch_name(c.arch) +
                " with " + std::to_string(c.num_classes) + " classes");
  return teacher;
}
}  // namespace

void register_compress(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compress",
      "Prune, share weights (k-means) and entropy-code any SqueezeNet weights into a .sqz file.\n"
      "Without --density nothing is pruned (zeros already there stay zeros); without --bits nothing is shared,\n"
      "and a layer with at most 255 distinct values is coded losslessly with those values as its codebook.");
  struct Opts {
    std::string weights, out, bits, density, init = "linear", tune, entropy_weight, teacher, gptq, gptq_fit = "fp32",
        prune_by = "magnitude";
    bool half = false, sweep = false, augment = false;
    std::vector<double> sweep_densities{0.8, 0.6, 0.4, 0.3, 0.2};
    double tolerance = 0.01;
    uint64_t seed = 1;
    int epochs = 2, prune_epochs = -1, tune_every = 1, batch = 25, reassign_every = 0;
    double magnitude_power = 0.0, lr = 1e-4, prune_lr = 1e-5, shadow_lr = 1e-5, temperature = 1.0, label_weight = 0.5;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("-w,--weights", o->weights, "Weights to compress (any format `info` reads)")->required();
  cmd->add_option("-o,--out", o->out, "The .sqz file to write")->required();
  cmd->add_option("--bits", o->bits,
                  "Weight-sharing code width, 1-8: N for every layer, and/or per layer (6,classifier.1=5)");
  cmd->add_option("--density", o->density,
                  "Fraction of weights kept: a global target (0.33) spread over layers like the authors' file "
                  "(dense 1x1s and conv1, expand3x3 ~1/3, final conv ~1/5), and/or per layer (features.3.squeeze=0.5,...)");
  cmd->add_option("--prune-by", o->prune_by,
                  "What --density drops: magnitude (the smallest weights) | output-error (the weights whose removal "
                  "costs each conv's output least on the --gptq images, the others absorbing it, as SparseGPT does; "
                  "pruned just before sharing, so without masked fine-tuning)")
      ->capture_default_str();
  cmd->add_option("--init", o->init, "k-means start: linear | density | forgy | kmeans++")->capture_default_str();
  cmd->add_option("--entropy-weight", o->entropy_weight,
                  "Entropy-constrained k-means: each weight goes to the centroid minimising squared error + W x "
                  "(the layer's mean square weight) x its code's length in bits, so rarely used centroids die and "
                  "the file shrinks for a little error. W for every layer and/or per layer (2e-4,classifier.1=0); "
                  "default 0, plain k-means");
  cmd->add_option("--magnitude-power", o->magnitude_power,
                  "Weight each weight's squared error in k-means by |w|^P, so centroids sit nearer the large "
                  "weights of their clusters (0: plain squared error)")
      ->capture_default_str()->check(CLI::Range(0.0, 8.0));
  cmd->add_flag("--fp16", o->half, "Round codebooks and biases to float16");
  cmd->add_option("--seed", o->seed, "Seed of the random k-means starts and of --augment's crops")->capture_default_str();
  cmd->add_option("--tune", o->tune,
                  "Retrain on these images: after pruning, every surviving weight (masked fine-tuning); after "
                  "sharing, the centroids. The loss is distillation from the uncompressed model's (or --teacher's) "
                  "outputs, mixed with cross-entropy where DIR is labelled (class subfolders or wnid file names); a "
                  "flat folder of other images is distilled only. Without --augment the images are held in memory "
                  "(0.6 MB each)");
  cmd->add_flag("--augment", o->augment,
                "Retrain on new crops every epoch: each tuning image a RandomResizedCrop + horizontal flip drawn per "
                "(--seed, epoch, image), decoded on worker threads batch by batch (nothing held in memory), the "
                "teacher's outputs computed on the same crops. Without it every epoch sees the same centre crops");
  cmd->add_option("--teacher", o->teacher,
                  "Weights (any format --weights takes, same architecture and classes) whose outputs are the "
                  "distillation target, instead of the uncompressed --weights: in a gradual pruning, the dense "
                  "model can teach every step");
  cmd->add_option("--gptq", o->gptq,
                  "Assign the shared codes by GPTQ instead of to the nearest centroid: each conv's input second "
                  "moments are measured on these images (labelled or flat folder, every --tune-every-th, centre "
                  "crops of the weights' preset as eval takes them) through the network as it is before sharing "
                  "(pruned and fine-tuned), and each weight's code then also pays for the error of the ones coded "
                  "before it in its output channel, so the conv's output, not each weight, stays close. The "
                  "codebook is k-means' either way; zeros stay zeros and no other weight becomes zero. Needs --bits. "
                  "Images are read one --batch at a time (about 10 MB of activations an image at once, 20 MB of "
                  "moments); a 500-image half of the ImageNet sample takes a few minutes on 2 cores");
  CLI::Option* gptq_fit = cmd->add_option("--gptq-fit", o->gptq_fit,
                  "What --gptq fits each conv to. fp32: every conv's moments are measured once, on the inputs the "
                  "unshared network gives it, and its codes keep its output on those. sequential: the convs are "
                  "shared one at a time in forward order, each measured on the inputs the network with every earlier "
                  "conv already shared gives it, its weights first moved (ridge regression, as int8's sequential "
                  "calibration) to the best for those inputs against the unshared network's output, then coded: "
                  "earlier convs' errors are made up for, at one pass over the images per conv (an expand1x1 and its "
                  "expand3x3 share one), 10-15x fp32's time. Neither measured better on both the Deep-Compression file "
                  "at 6 bits and torchvision 1.1 at 4 bits (README), so the default is the cheaper fp32")
      ->capture_default_str();
  cmd->add_option("--tune-every", o->tune_every,
                  "Tune (and --gptq) on every k-th image of the sorted folder, from the first (2: the even positions)")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--epochs", o->epochs, "Passes over the tuning images to tune the centroids (0: none)")
      ->capture_default_str()->check(CLI::Range(0, 1000));
  cmd->add_option("--prune-epochs", o->prune_epochs,
                  "Passes of masked fine-tuning after pruning (default: --epochs; 0: none). It needs --density or "
                  "--sweep; --density 1 fine-tunes every non-zero weight without pruning more")->check(CLI::Range(0, 1000));
  cmd->add_option("--lr", o->lr, "Learning rate of the centroids and biases (Adam)")->capture_default_str();
  cmd->add_option("--prune-lr", o->prune_lr, "Learning rate of masked fine-tuning (Adam)")->capture_default_str();
  cmd->add_option("--reassign-every", o->reassign_every,
                  "During centroid tuning, let codes change: every weight keeps a float shadow that follows its "
                  "centroid and drifts by its own gradient (Adam at --shadow-lr), and every K steps each shadow goes "
                  "to its nearest centroid (cheapest, with --entropy-weight) and each centroid to its members' mean "
                  "(0: codes never change)")->capture_default_str()->check(CLI::Range(0, 1000000));
  cmd->add_option("--shadow-lr", o->shadow_lr, "Learning rate of the shadow weights of --reassign-every (Adam)")
      ->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "Temperature of the distillation softmax")
      ->capture_default_str()->check(CLI::Range(0.1, 100.0));
  cmd->add_option("--label-weight", o->label_weight,
                  "Share of cross-entropy on the labels in the loss, where there are labels (0: distillation only)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--sweep", o->sweep,
                "Sensitivity analysis on the --tune images: prune each layer alone to each --sweep-densities, "
                "print the accuracy, and (without --density) prune each layer to the lowest density that costs at "
                "most --tolerance");
  cmd->add_option("--sweep-densities", o->sweep_densities, "Densities the sweep tries per layer")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--tolerance", o->tolerance, "Accuracy a layer's proposed density may cost in the sweep (0.01: 1 point)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--batch", o->batch, "Tuning batch size")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->callback([o, gptq_fit] {
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
    if (!o->entropy_weight.empty())
      for (const auto& [layer, w] : parse_per_layer(o->entropy_weight, config, "--entropy-weight", false)) {
        if (!(w >= 0)) throw Error("--entropy-weight " + layer + ": must be 0 or more");
        options.entropy_weight[layer] = w;
      }
    options.init = parse_kmeans_init(o->init);
    options.half = o->half;
    options.magnitude_power = o->magnitude_power;
    options.seed = o->seed;
    if (o->sweep && o->tune.empty()) throw Error("--sweep needs --tune DIR: the images it measures accuracy on");
    if (o->augment && o->tune.empty()) throw Error("--augment needs --tune DIR: the images it crops");
    if (!o->teacher.empty() && o->tune.empty()) throw Error("--teacher needs --tune DIR: the images it labels");
    if (o->gptq_fit != "fp32" && o->gptq_fit != "sequential")
      throw Error("--gptq-fit: '" + o->gptq_fit + "' is neither fp32 nor sequential");
    if (o->gptq.empty() && gptq_fit->count() > 0)
      throw Error("--gptq-fit needs --gptq DIR: it says how GPTQ fits the convs");
    if (!o->gptq.empty() && o->bits.empty())
      throw Error("--gptq needs --bits: it assigns the codes of weight sharing");
    if (o->prune_by != "magnitude" && o->prune_by != "output-error")
      throw Error("--prune-by: '" + o->prune_by + "' is neither magnitude nor output-error");
    options.prune_by_moments = o->prune_by == "output-error";
    if (options.prune_by_moments && (o->gptq.empty() || o->density.empty()))
      throw Error("--prune-by output-error needs --density and --gptq DIR: the images whose conv inputs it measures");
    if (options.prune_by_moments && (o->sweep || o->prune_epochs > 0))
      throw Error("--prune-by output-error prunes as it shares: no --sweep or --prune-epochs (masked fine-tuning)");
    if (o->prune_epochs > 0 && o->density.empty() && !o->sweep)
      throw Error("--prune-epochs needs --density (or --sweep): masked fine-tuning follows pruning; --density 1 "
                  "fine-tunes every non-zero weight without pruning more");
    std::optional<Model> other_teacher;
    if (!o->teacher.empty()) other_teacher = load_teacher(o->teacher, config);
    const Model& teacher = other_teacher ? *other_teacher : model;
    const Preset preset = parse_preset(in.metadata.count("preset") ? in.metadata["preset"] : "torchvision");
    const auto every_kth = [&](const std::string& dir) {
      const LabelledFolder folder = scan_tuning_folder(dir);
      std::vector<LabelledImage> images;
      for (std::size_t i = 0; i < folder.images.size(); i += static_cast<std::size_t>(o->tune_every))
        images.push_back(folder.images[i]);
      return images;
    };
    // Scanned before any work, so that a bad folder is refused at once.
    const std::vector<LabelledImage> gptq_images = o->gptq.empty() ? std::vector<LabelledImage>{} : every_kth(o->gptq);
    std::optional<TuningSet> set;  // centre crops: the sweep's, and retraining's without --augment
    std::optional<AugmentedTuning> augmented;
    if (!o->tune.empty()) {
      const std::vector<LabelledImage> images = every_kth(o->tune);
      if (!o->augment || o->sweep) set = make_tuning_set(teacher, images, true, o->batch, preset);
      if (o->augment) augmented = make_augmented_tuning(teacher, images, true, o->batch, preset, o->seed);
      const bool labelled = augmented ? augmented->labelled : !set->labels.empty();
      std::printf("tuning on %zu images of %s (%s%s, taught by %s)\n", images.size(), o->tune.c_str(),
                  !labelled || o->label_weight == 0 ? "distilled" : "labelled + distilled",
                  o->augment ? ", augmented" : "", o->teacher.empty() ? o->weights.c_str() : o->teacher.c_str());
    }
    if (o->sweep) {
      double baseline = 0;
      const auto rows = sensitivity_sweep(base, *set, o->sweep_densities, o->tolerance, baseline);
      std::printf("sensitivity (%s on %lld images; unpruned %.1f %%):\n%-24s",
                  set->labels.empty() ? "agreement with the unpruned model" : "top-1",
                  static_cast<long long>(set->count), 100 * baseline, "layer");
      for (double d : o->sweep_densities) std::printf(" %6.0f%%", 100 * d);
      std::printf("  proposed\n");
      std::string proposal;
      for (const SweepRow& r : rows) {
        std::printf("%-24s", r.layer.c_str());
        for (double a : r.accuracy) std::printf(" %6.1f%%", 100 * a);
        std::printf("  %g\n", r.proposed);
        char density[32];
        std::snprintf(density, sizeof density, "%g", r.proposed);
        proposal += (proposal.empty() ? "" : ",") + r.layer + "=" + density;
        if (o->density.empty()) options.density[r.layer] = r.proposed;
      }
      std::printf("--density %s\n", proposal.c_str());
      std::fflush(stdout);
    }
    // Pruning first and sharing second, so that masked fine-tuning can run between them.
    CompressOptions prune_only, share_only = options;
    if (!options.prune_by_moments) prune_only.density = std::move(share_only.density);
    WeightFile out = compress_weights(base, config, prune_only);
    // The moments of the network as sharing finds it: pruned and fine-tuned.
    std::optional<quant::InputMoments> moments;
    std::optional<SequentialMoments> sequential;
    const auto measure_moments = [&] {
      if (o->gptq.empty()) return;
      std::printf("GPTQ (%s fit): input moments on %zu images of %s\n", o->gptq_fit.c_str(), gptq_images.size(),
                  o->gptq.c_str());
      std::fflush(stdout);
      const MomentsProgress progress = [](int64_t done, int64_t all) {
        std::printf("GPTQ moments: %lld / %lld images\n", static_cast<long long>(done), static_cast<long long>(all));
        std::fflush(stdout);
      };
      if (o->gptq_fit == "fp32") {
        moments = conv_input_moments(out, gptq_images, preset, o->batch, progress);
        share_only.moments = [&](const std::string&, const WeightFile&) -> const quant::InputMoments& { return *moments; };
        return;
      }
      sequential.emplace(out, gptq_images, preset, o->batch, MomentsProgress{});
      share_only.moments = [&](const std::string& conv, const WeightFile& shared) -> const quant::InputMoments& {
        const auto conv_start = std::chrono::steady_clock::now();
        const quant::InputMoments& m = sequential->measure(conv, shared);
        std::printf("GPTQ sequential: %s, moments on %zu images in %.1f s\n", conv.c_str(), gptq_images.size(),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - conv_start).count());
        std::fflush(stdout);
        return m;
      };
    };
    if (!o->tune.empty()) {
      const TuningData data = augmented ? TuningData(*augmented) : TuningData(*set);
      RetrainOptions ro;
      ro.temperature = o->temperature;
      ro.label_weight = o->label_weight;
      auto report = [](const char* what) {
        return [what](int epoch, double loss) {
          std::printf("%s epoch %d: loss %.4f\n", what, epoch + 1, loss);
          std::fflush(stdout);
        };
      };
      ro.epochs = o->prune_epochs < 0 ? o->epochs : o->prune_epochs;
      ro.lr = o->prune_lr;
      if (!prune_only.density.empty() && ro.epochs > 0) tune_weights(out, data, ro, report("masked fine-tuning"));
      ro.first_epoch = ro.epochs;
      CodeTuning codes;
      codes.every = o->reassign_every;
      codes.lr = o->shadow_lr;
      codes.entropy_weight = options.entropy_weight;
      const WeightFile floats = codes.every > 0 ? out : WeightFile{};
      codes.shadow = &floats;
      measure_moments();
      out = compress_weights(out, config, share_only);
      ro.epochs = o->epochs;
      ro.lr = o->lr;
      if (!out.codebooks.empty() && ro.epochs > 0) tune_centroids(out, data, ro, report("centroid tuning"), &codes);
      if (o->half) round_to_half(out, config);
    } else {
      measure_moments();
      out = compress_weights(out, config, share_only);
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
