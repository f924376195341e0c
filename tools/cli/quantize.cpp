// `squeezenet quantize`: post-training static int8 quantization of a weights file, calibrated on a folder of
// images the model will not be evaluated on.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "quant/layer_error.h"
#include "squeezenet/dataset.h"
#include "squeezenet/error.h"
#include "squeezenet/quantize.h"

namespace squeezenet::cli {

namespace {
struct Opts {
  std::string weights, dir, out, method = "mse", fit = "sequential", preset, report, keep_fp32 = "none";
  int count = 64, threads = 0, report_count = 8, weight_bits = 8;
};

// Per scaled tensor, int8 against fp32 on the same images: the layers where the SQNR drops most are the ones to fix.
void print_report(const Model& model, const QuantizedModel& q, const std::vector<Tensor>& images) {
  const quant::ErrorReport r = quant::layer_errors(model, q, images);
  std::printf("%-22s %12s %9s %10s %9s %10s %9s\n", "tensor", "scale", "SQNR dB", "cosine", "grid dB", "weights dB",
              "clipped");
  for (const quant::LayerError& l : r.layers)
    std::printf("%-22s %12.6g %9.2f %10.6f %9.2f %10.2f %8.4f%%\n", l.name.c_str(), l.scale, l.sqnr_db, l.cosine,
                l.grid_db, l.weights_db, 100.0 * l.clipped);
  std::printf("same top-1 as fp32 on %d of %d images\n", r.same_top1, r.images);
}

void run(const Opts& o) {
  const Calibration rule = parse_calibration(o.method);
  const Fitting fitting = parse_fitting(o.fit);
  if (format_for_output(o.out) != Format::safetensors)
    throw Error(o.out + ": quantized weights are written as .safetensors only");
  WeightFile wf = load_weights(o.weights);
  if (is_quantized(wf)) throw Error(o.weights + ": already int8; quantize the fp32 weights instead");
  const Model model = Model::from_weights(wf, o.weights);
  const Preset preset = !o.preset.empty()                 ? parse_preset(o.preset)
                        : wf.metadata.count("preset") == 0 ? Preset::torchvision
                                                           : parse_preset(wf.metadata.at("preset"));
  const std::vector<Tensor> images = calibration_images(o.dir, o.count, preset, o.threads);
  std::fprintf(stderr, "calibrating %s on %zu images of %s (%s, %s)\n", arch_name(model.config().arch).c_str(),
               images.size(), o.dir.c_str(), o.method.c_str(), o.fit.c_str());
  std::vector<std::string> keep;
  for (std::size_t at = 0; o.keep_fp32 != "none" && at <= o.keep_fp32.size();) {
    const std::size_t comma = std::min(o.keep_fp32.find(',', at), o.keep_fp32.size());
    keep.push_back(o.keep_fp32.substr(at, comma - at));
    at = comma + 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const QuantizedModel q = quantize(model, images, rule, keep, fitting, o.weight_bits);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  wf.metadata["preset"] = preset_name(preset);
  wf.metadata["fitting"] = o.fit;
  wf.metadata["calibration_images"] = std::to_string(images.size());
  wf.metadata["weight_bits"] = std::to_string(o.weight_bits);
  save_weights(to_weights(q, wf.metadata), o.out, Format::safetensors);
  std::printf("wrote %s: %d-bit weights per output channel, u8 activations, %s calibration on %zu images, %s "
              "fitting (%.1f s)\n",
              o.out.c_str(), o.weight_bits, o.method.c_str(), images.size(), o.fit.c_str(), seconds);
  if (!o.report.empty()) print_report(model, q, calibration_images(o.report, o.report_count, preset, o.threads));
}
}  // namespace

void register_quantize(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quantize",
      "Quantize weights to int8 (s8 weights per output channel rounded by GPTQ, biases corrected, u8 activations\n"
      "per tensor), calibrated on images;\n"
      "the result is a .safetensors file that classify/eval/predict/bench run with --precision int8");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-w,--weights", o->weights, "fp32 weights (any supported format)")->required();
  cmd->add_option("--calibrate", o->dir, "Folder of calibration images (flat or one subfolder per class); not the "
                                         "images you evaluate on")
      ->required();
  cmd->add_option("-o,--out", o->out, "Output .safetensors")->required();
  cmd->add_option("--method", o->method,
                  "Activation scales: mse (least squared error) | minmax | percentile (99.99 %) | kl (entropy, as "
                  "TensorRT); percentile and kl clip SqueezeNet's rare large activations (see README)")
      ->capture_default_str();
  cmd->add_option("--fit", o->fit,
                  "What each conv's weights and bias are fitted to: sequential (the inputs the quantized network gives "
                  "it, convs quantized in forward order) | independent (the fp32 network's inputs)")
      ->capture_default_str();
  cmd->add_option("--keep-fp32", o->keep_fp32,
                  "Convs to keep in fp32, comma-separated (features.0, features.3.squeeze, classifier.1, ...), or "
                  "none; they read and write the same u8 maps, so only their own arithmetic changes (see README)")
      ->capture_default_str();
  cmd->add_option("--weight-bits", o->weight_bits,
                  "Weights in [-(2^(b-1) - 1), 2^(b-1) - 1], stored as int8: with 7, CPUs with AVX2 but no VNNI "
                  "multiply every conv with vpmaddubsw (1.1 about 1.2x faster than with 8), with 6 two quads of "
                  "input channels a step (about 5 % faster again, and less accurate); the same results everywhere "
                  "(see README)")
      ->capture_default_str()
      ->check(CLI::Range(2, 8));
  cmd->add_option("--count", o->count, "Calibration images, spread evenly over the folder")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--preset", o->preset, "Preprocessing: torchvision | caffe | tflite (default: the weights' own)");
  cmd->add_option("--report", o->report,
                  "Also print, per quantized tensor, int8's error against fp32 on images of this folder: SQNR, "
                  "cosine, the SQNR its u8 grid allows, the SQNR of int8 weights alone, share saturated (reference "
                  "kernels: seconds an image)");
  cmd->add_option("--report-count", o->report_count, "Images of --report, spread evenly over the folder")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("-t,--threads", o->threads, "Threads for decoding (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->callback([o] { run(*o); });
}

}  // namespace squeezenet::cli
