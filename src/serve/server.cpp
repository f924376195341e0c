#include "serve/server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "serve/deadline_server.h"
#include "serve/kserve.h"
#include "squeezenet/error.h"
#include "squeezenet/outputs.h"

namespace squeezenet::serve {

extern const char kServePageHtml[];  // generated from src/serve/web/index.html at build time

using nlohmann::ordered_json;

ModelSpec parse_model_spec(const std::string& text) {
  const auto eq = text.find('=');
  if (eq != std::string::npos && text.find('/') > eq) {
    const std::string name = text.substr(0, eq);
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                            std::string::npos)
      throw Error("--weights '" + text + "': a model name is letters, digits, '_', '.' and '-'");
    return {name, text.substr(eq + 1)};
  }
  return {std::filesystem::path(text).stem().string(), text};
}

namespace {

// When the current request's headers were read, for its latency; set by the pre-routing handler on the thread
// that serves the request, cleared by the logger.
thread_local std::optional<Clock::time_point> t_started;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void reply(httplib::Response& res, int status, const ordered_json& body) {
  res.status = status;
  // Messages may quote the request (a path, a model name) and so hold bytes that are not UTF-8; dump() would throw
  // on them, outside any handler, and end the server.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply(res, status, {{"error", message}});
}

// 503s invite the client back: a full queue, or memory that ran out.
void reply_unavailable(httplib::Response& res, const std::string& message) {
  res.set_header("Retry-After", "1");
  reply_error(res, 503, message);
}

// A failed job: 400 for a bad input, 503 when memory ran out.
void reply_failure(httplib::Response& res, const JobResult& r) {
  if (r.error_status == 503) return reply_unavailable(res, r.error);
  reply_error(res, r.error_status, r.error);
}

class Service {
 public:
  explicit Service(const ServerOptions& options) : options_(options) {
    for (const ModelSpec& spec : options.models) load(spec);
    batcher_ = std::make_unique<Batcher>(options.batcher, metrics_);
  }

  void routes(httplib::Server& svr) {
    svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(kServePageHtml, "text/html; charset=utf-8");
    });
    svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.render(batcher_->depth()), "text/plain; version=0.0.4");
    });
    svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      ordered_json list = ordered_json::array();
      for (const auto& m : models_)
        list.push_back({{"name", m->name},
                        {"weights", m->weights},
                        {"preset", preset_name(m->classifier->preset())},
                        {"classes", m->classes}});
      reply(res, 200, {{"models", list}});
    });
    svr.Post("/v1/classify", guard([this](const httplib::Request& req, httplib::Response& res, const Upload& body) {
      classify(req, res, body);
    }));
    svr.Post("/v1/cam", guard([this](const httplib::Request& req, httplib::Response& res, const Upload& body) {
      cam(req, res, body);
    }));

    svr.Get("/v2", [](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, {{"name", "squeezenet.cpp"}, {"version", "0.1.0"}, {"extensions", ordered_json::array()}});
    });
    svr.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { reply(res, 200, {{"live", true}}); });
    svr.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      reply(res, draining ? 503 : 200, {{"ready", !draining}});
    });
    svr.Get(R"(/v2/models/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      if (const ServedModel* m = model_named(req.matches[1], res)) reply(res, 200, model_metadata(*m));
    });
    svr.Get(R"(/v2/models/([^/]+)/ready)", [this](const httplib::Request& req, httplib::Response& res) {
      if (const ServedModel* m = model_named(req.matches[1], res))
        reply(res, draining ? 503 : 200, {{"name", m->name}, {"ready", !draining}});
    });
    svr.Post(R"(/v2/models/([^/]+)/infer)",
             guard([this](const httplib::Request& req, httplib::Response& res, const Upload& body) {
               infer(req, res, body);
             }));

    svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      t_started = Clock::now();
      ++metrics_.in_flight;
      return check_body(req, res) ? httplib::Server::HandlerResponse::Unhandled
                                  : httplib::Server::HandlerResponse::Handled;
    });
    svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      reply_error(res, res.status,
                  res.status == 404 ? "no such endpoint: " + req.method + " " + req.path.substr(0, 100)
                                    : "bad request (" + std::to_string(res.status) + ")");
      return httplib::Server::HandlerResponse::Handled;
    }));
    svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log(req, res); });
  }

  std::atomic<bool> draining{false};
  Batcher& batcher() { return *batcher_; }
  const std::vector<std::unique_ptr<ServedModel>>& models() const { return models_; }

 private:
  // A POST body: the raw body, or of a multipart form the part named "image" or else the first file.
  struct Upload {
    std::string bytes;
    std::string name = "request body";  // what error messages call it: the uploaded file's name when there is one
  };
  using Handler = std::function<void(const httplib::Request&, httplib::Response&, const Upload&)>;

  // Reads the body through httplib's content reader, so that no form parsing of its own (and its 8 KB limit on
  // url-encoded bodies, curl's default Content-Type) applies; the length was checked from the headers already.
  // A failure inside the handler answers 500 with its message (503 when memory ran out) instead of reaching the HTTP
  // library.
  static httplib::Server::HandlerWithContentReader guard(Handler handler) {
    return [handler](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      Upload body;
      bool complete = false;
      if (req.is_multipart_form_data()) {
        bool taking = false, taken = false;
        complete = reader(
            [&](const httplib::MultipartFormData& part) {
              taking = !taken && (part.name == "image" || !part.filename.empty());
              if (taking) {
                taken = true;
                if (!part.filename.empty()) body.name = part.filename.substr(0, 200);
              }
              return true;
            },
            [&](const char* data, std::size_t n) {
              if (taking) body.bytes.append(data, n);
              return true;
            });
      } else {
        complete = reader([&](const char* data, std::size_t n) {
          body.bytes.append(data, n);
          return true;
        });
      }
      if (!complete) return reply_error(res, 400, "the request body ended early or did not arrive in time");
      try {
        handler(req, res, body);
      } catch (const std::bad_alloc&) {
        reply_unavailable(res, kOutOfMemory);
      } catch (const std::exception& e) {
        reply_error(res, 500, e.what());
      }
    };
  }

  void load(const ModelSpec& spec) {
    for (const auto& m : models_)
      if (m->name == spec.name) throw Error("--weights: two models are named '" + spec.name + "'");
    const auto t0 = Clock::now();
    auto m = std::make_unique<ServedModel>();
    m->name = spec.name;
    m->weights = spec.weights;
    const EngineOptions pool{.threads = options_.batcher.threads, .precision = options_.precision};
    m->classifier = std::make_unique<Classifier>(Classifier::load(spec.weights, {}, pool));
    m->classes = m->classifier->model().config().num_classes;
    for (int i = 0; i < options_.batcher.threads; ++i)
      m->lanes.emplace_back(m->classifier->model(), EngineOptions{.threads = 1, .precision = options_.precision});
    // The crop side of the preset, found the way any image would: preprocessing one pixel.
    const Tensor one = preprocess(Image{1, 1, {0, 0, 0}}, m->classifier->preset());
    m->input_size = static_cast<int>(one.dim(3));
    // Every plan a batch can need is built now, not while requests wait (see forward_in_chunks).
    for (int64_t n = 1; n <= std::min<int64_t>(options_.batcher.max_batch, kMaxForwardChunk); n *= 2) {
      const Tensor input({n, 3, m->input_size, m->input_size});
      m->classifier->logits(input);
      for (Engine& lane : m->lanes) lane.forward(input);
    }
    metrics_.model_loaded(m->name, ms_since(t0) / 1000);
    models_.push_back(std::move(m));
  }

  ServedModel* model_named(const std::string& name, httplib::Response& res) {
    for (const auto& m : models_)
      if (m->name == name) return m.get();
    reply_error(res, 404, "no model named '" + name.substr(0, 64) + "'");
    return nullptr;
  }

  // ?model=NAME, else the first model given.
  ServedModel* model_of(const httplib::Request& req, httplib::Response& res) {
    return req.has_param("model") ? model_named(req.get_param_value("model"), res) : models_.front().get();
  }

  // Bodies are refused from their headers, before any of them is read.
  bool check_body(const httplib::Request& req, httplib::Response& res) {
    if (req.method != "POST" && req.method != "PUT") return true;
    if (req.has_header("Transfer-Encoding")) {
      res.set_header("Connection", "close");
      reply_error(res, 411, "send the body with a Content-Length (chunked bodies are not accepted)");
      return false;
    }
    const std::string text = req.get_header_value("Content-Length");
    uint64_t length = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      res.set_header("Connection", "close");
      reply_error(res, 411, "a POST needs a valid Content-Length");
      return false;
    }
    if (length > options_.max_body) {
      res.set_header("Connection", "close");
      reply_error(res, 413, "request body of " + std::to_string(length) + " bytes is over the limit of " +
                                std::to_string(options_.max_body) + " (--max-body-mb)");
      return false;
    }
    return true;
  }

  // Queues a job; on a full queue answers 503 and gives nothing back.
  std::optional<std::future<JobResult>> submit(std::unique_ptr<Job> job, httplib::Response& res) {
    auto future = batcher_->submit(std::move(job));
    if (!future) {
      reply_unavailable(res, "server busy: the queue of " + std::to_string(options_.batcher.queue) + " is full");
    }
    return future;
  }

  static std::unique_ptr<Job> image_job(const Upload& body, ServedModel* model, Job::Kind kind) {
    auto job = std::make_unique<Job>();
    job->kind = kind;
    job->model = model;
    job->name = body.name;
    job->bytes = body.bytes;
    return job;
  }

  void classify(const httplib::Request& req, httplib::Response& res, const Upload& body) {
    ServedModel* model = model_of(req, res);
    if (!model) return;
    int top = 5;
    if (req.has_param("top")) {
      const std::string t = req.get_param_value("top");
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), top);
      if (ec != std::errc() || end != t.data() + t.size() || top < 1 || top > model->classes)
        return reply_error(res, 400, "?top= must be 1 to " + std::to_string(model->classes));
    }
    auto future = submit(image_job(body, model, Job::Kind::image), res);
    if (!future) return;
    const JobResult r = future->get();
    if (!r.error.empty()) return reply_failure(res, r);
    ordered_json list = ordered_json::array();
    for (const Prediction& p : top_k(softmax(r.logits).data(), model->classes, top))
      list.push_back({{"index", p.index}, {"name", class_name(p.index, model->classes)}, {"probability", p.score}});
    reply(res, 200,
          {{"model", model->name},
           {"preset", preset_name(model->classifier->preset())},
           {"top", list},
           {"batch_size", r.batch_size},
           {"timings_ms",
            {{"queue", r.queue_ms},
             {"decode", r.decode_ms},
             {"inference", r.inference_ms},
             {"total", t_started ? ms_since(*t_started) : 0.0}}}});
  }

  void cam(const httplib::Request& req, httplib::Response& res, const Upload& body) {
    ServedModel* model = model_of(req, res);
    if (!model) return;
    auto future = submit(image_job(body, model, Job::Kind::cam), res);
    if (!future) return;
    const JobResult r = future->get();
    if (!r.error.empty()) return reply_failure(res, r);
    res.set_header("X-Class-Index", std::to_string(r.cam_class));
    res.set_header("X-Class-Name", class_name(r.cam_class, model->classes));
    res.set_content(r.png, "image/png");
  }

  void infer(const httplib::Request& req, httplib::Response& res, const Upload& body) {
    ServedModel* model = model_named(req.matches[1], res);
    if (!model) return;
    InferRequest request;
    try {
      request = parse_infer_request(body.bytes, *model, options_.batcher.max_batch);
    } catch (const Error& e) {
      return reply_error(res, 400, e.what());
    }
    // Images go one job each, so they batch with everything else in flight; a tensor is its own batch.
    std::vector<std::future<JobResult>> futures;
    const std::size_t jobs = request.images.empty() ? 1 : request.images.size();
    for (std::size_t i = 0; i < jobs; ++i) {
      auto job = std::make_unique<Job>();
      job->model = model;
      if (request.images.empty()) {
        job->kind = Job::Kind::tensor;
        job->input = std::move(request.tensor);
      } else {
        job->bytes = std::move(request.images[i]);
        job->name = "inputs[0].data[" + std::to_string(i) + "]";
      }
      auto future = submit(std::move(job), res);
      if (!future) break;
      futures.push_back(std::move(*future));
    }
    std::vector<JobResult> results;
    for (auto& f : futures) results.push_back(f.get());
    if (futures.size() < jobs) return;  // 503 already set
    for (const JobResult& r : results)
      if (!r.error.empty()) return reply_failure(res, r);
    const int64_t classes = results.front().logits.dim(1);
    Tensor logits({static_cast<int64_t>(request.images.empty() ? results.front().logits.dim(0) : jobs), classes});
    int64_t row = 0;
    for (const JobResult& r : results) {
      std::copy_n(r.logits.data(), r.logits.numel(), logits.data() + row * classes);
      row += r.logits.dim(0);
    }
    reply(res, 200, infer_response(request, *model, logits));
  }

  void log(const httplib::Request& req, const httplib::Response& res) {
    double seconds = 0;
    if (t_started) {
      seconds = ms_since(*t_started) / 1000;
      --metrics_.in_flight;
      t_started.reset();
    }
    const std::string endpoint = endpoint_of(req.path);
    metrics_.request_done(endpoint, res.status, seconds);
    if (!options_.access_log) return;
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const ordered_json line{{"time", when},
                            {"remote", req.remote_addr},
                            {"method", req.method},
                            {"path", req.path.substr(0, 200)},
                            {"status", res.status},
                            {"bytes_in", std::atoll(req.get_header_value("Content-Length").c_str())},
                            {"bytes_out", res.body.size()},
                            {"ms", seconds * 1000}};
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::lock_guard lock(log_mutex_);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }

  const ServerOptions& options_;
  Metrics metrics_;
  std::vector<std::unique_ptr<ServedModel>> models_;
  std::unique_ptr<Batcher> batcher_;
  std::mutex log_mutex_;
};

}  // namespace

std::shared_ptr<void> add_routes(httplib::Server& svr, const ServerOptions& options) {
  auto service = std::make_shared<Service>(options);
  service->routes(svr);
  return service;
}

void run_server(const ServerOptions& options) {
  if (options.models.empty()) throw Error("give at least one --weights");
  // SIGTERM and SIGINT are taken by one thread (below), so every thread started from here on blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Service service(options);
  DeadlineServer svr;
  svr.set_read_deadline(std::chrono::milliseconds(options.read_deadline_s * 1000));
  const int http_threads = options.http_threads;
  svr.new_task_queue = [http_threads] { return new httplib::ThreadPool(static_cast<std::size_t>(http_threads)); };
  svr.set_payload_max_length(options.max_body);
  svr.set_read_timeout(options.timeout_s, 0);
  svr.set_write_timeout(options.timeout_s, 0);
  svr.set_keep_alive_timeout(5);
  svr.set_keep_alive_max_count(100000);
  service.routes(svr);

  // Debian's build of the library listens with a backlog of 5: a burst of new connections beyond that loses SYNs,
  // and clients wait out TCP's 1 s, 3 s, ... retransmissions. The listening socket passes through the socket
  // options hook before it is bound; listen() again after binding sets the usual backlog.
  int listener = -1;
  svr.set_socket_options([&listener](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listener = sock;
  });
  const int port = options.port == 0 ? svr.bind_to_any_port(options.host)
                                     : (svr.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0) throw Error("cannot listen on " + options.host + ":" + std::to_string(options.port));
  if (listener < 0 || ::listen(listener, SOMAXCONN) != 0)
    throw Error("cannot set the listen backlog on " + options.host + ":" + std::to_string(port));

  std::atomic<bool> signalled{false}, listen_returned{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!signalled.exchange(true)) {
      service.draining = true;
      std::fprintf(stderr, "squeezenet serve: %s: finishing the requests in flight\n", strsignal(sig));
    }
    // stop() before listen has started is forgotten by the library: wait until it runs (or gave up).
    while (!svr.is_running() && !listen_returned) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    svr.stop();
  });

  std::string names;
  for (const auto& m : service.models()) names += (names.empty() ? "" : ", ") + m->name;
  std::fprintf(stderr, "squeezenet serve: listening on http://%s:%d (models: %s; compute threads %d, http threads %d)\n",
               options.host.c_str(), port, names.c_str(), options.batcher.threads, options.http_threads);
  std::fflush(stderr);
  const bool listened = service.draining || svr.listen_after_bind();
  listen_returned = true;
  if (!signalled.exchange(true)) pthread_kill(waiter.native_handle(), SIGTERM);  // wake the waiter to end it
  waiter.join();
  service.batcher().drain();
  if (!listened && !service.draining) throw Error("the server stopped accepting connections");
  std::fprintf(stderr, "squeezenet serve: stopped\n");
}

}  // namespace squeezenet::serve
