// `squeezenet serve`: an HTTP inference server (own JSON API, KServe v2 protocol, Prometheus metrics, a web page).
#include "commands.h"
#include "common.h"
#include "serve/cpu_quota.h"
#include "serve/server.h"

namespace squeezenet::cli {

namespace {
struct Opts {
  std::vector<std::string> weights;
  double max_body_mb = 20;
  int threads = 0;
  PrecisionOption precision;
  serve::ServerOptions server;
};

void run(Opts& o) {
  for (const std::string& w : o.weights) o.server.models.push_back(serve::parse_model_spec(w));
  o.server.precision = o.precision.get();
  o.server.max_body = static_cast<std::size_t>(o.max_body_mb * (1 << 20));
  o.server.batcher.threads = o.threads > 0 ? o.threads : serve::usable_cpus();
  // The decoder's own limits are for files on disk; a server holds up to `threads` images at once.
  o.server.batcher.limits.max_pixels = 40'000'000;
  serve::run_server(o.server);
}
}  // namespace

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve classification over HTTP until SIGTERM (then finish what is in flight and exit 0).\n"
      "  GET  /                          a web page: drop an image, see the top-5 and the class activation map\n"
      "  POST /v1/classify[?top=K&model=NAME]  a JPEG/PNG (raw body or multipart) -> JSON top-k and timings\n"
      "  POST /v1/cam[?model=NAME]       a JPEG/PNG -> PNG heat map of the top class over the image\n"
      "  GET  /v1/models                 the models served\n"
      "  KServe v2: /v2/health/live, /v2/health/ready, /v2/models/NAME[/ready], POST /v2/models/NAME/infer\n"
      "  GET  /metrics                   Prometheus text format\n"
      "Concurrent images are batched (up to --max-batch, waiting at most --max-delay-ms) and run on one compute\n"
      "pool sized to the CPUs the process may use (affinity and the cgroup's cpu.max). One JSON access-log line per\n"
      "request on stdout.");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-w,--weights", o->weights, "NAME=FILE or FILE (named after the file); repeat to serve several")
      ->required();
  cmd->add_option("--host", o->server.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->server.port, "Port (0: any free port, printed on start)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("-t,--threads", o->threads, "Compute threads (0 = the CPUs this process may use)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  o->precision.add_option(*cmd);
  cmd->add_option("--max-batch", o->server.batcher.max_batch,
                  "Images per forward at most, and per KServe request (a BYTES input [N, k] holds N * k)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-delay-ms", o->server.batcher.max_delay_ms, "How long the first image waits for others")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1000.0));
  cmd->add_option("--max-body-mb", o->max_body_mb, "Larger request bodies are refused with 413 unread")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1024.0));
  cmd->add_option("--queue", o->server.batcher.queue, "Images waiting at most; beyond, 503 with Retry-After")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--http-threads", o->server.http_threads, "Connections served at once (keep-alive holds one)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--timeout-s", o->server.timeout_s, "Drop a client that sends or reads nothing for this long")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--read-deadline-s", o->server.read_deadline_s,
                  "Drop a client whose request (headers and body) takes longer than this to arrive")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("!--no-access-log", o->server.access_log, "Do not print a JSON line per request");
  cmd->callback([o] { run(*o); });
}

}  // namespace squeezenet::cli
