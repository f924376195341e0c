// The same smallest endpoint on GNU libmicrohttpd (Debian's libmicrohttpd-dev), for bench/serve_http_libs.sh:
// its own thread pool of THREADS polling threads.
//   hello_mhd PORT THREADS     GET /live -> {"live":true}; POST /bytes -> {"bytes":N}
#include <microhttpd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

MHD_Result answer(MHD_Connection* connection, const std::string& body) {
  MHD_Response* response =
      MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(response, "Content-Type", "application/json");
  const MHD_Result ok = MHD_queue_response(connection, MHD_HTTP_OK, response);
  MHD_destroy_response(response);
  return ok;
}

// Called once with the headers, then with each piece of the body, then once more with none left.
MHD_Result handle(void*, MHD_Connection* connection, const char* url, const char* method, const char*,
                  const char* upload_data, size_t* upload_size, void** state) {
  if (std::strcmp(method, "POST") == 0 && std::strcmp(url, "/bytes") == 0) {
    if (*state == nullptr) {
      *state = new size_t(0);
      return MHD_YES;
    }
    auto* bytes = static_cast<size_t*>(*state);
    if (*upload_size != 0) {
      *bytes += *upload_size;
      *upload_size = 0;
      return MHD_YES;
    }
    return answer(connection, "{\"bytes\":" + std::to_string(*bytes) + "}");
  }
  if (std::strcmp(method, "GET") == 0 && std::strcmp(url, "/live") == 0) return answer(connection, "{\"live\":true}");
  return answer(connection, "{}");
}

void done(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) { delete static_cast<size_t*>(*state); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const unsigned threads = static_cast<unsigned>(std::atoi(argv[2]));
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, static_cast<uint16_t>(std::atoi(argv[1])), nullptr, nullptr,
      &handle, nullptr, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, &done, nullptr,
      MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
  if (!daemon) return 1;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  int sig = 0;
  sigwait(&signals, &sig);
  MHD_stop_daemon(daemon);
  return 0;
}
