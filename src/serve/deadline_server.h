#pragma once
// cpp-httplib's server with a total deadline on reading each request. The library's read timeout restarts with
// every byte, so a client that dribbles its headers (slowloris) would hold an HTTP thread as long as it likes;
// here a request's headers and body must all arrive within `read_deadline` of its first byte, or the connection
// is closed. The library leaves this hook for its TLS server: the connection loop and the socket stream are ours,
// the request parsing stays the library's. Connections also get TCP_NODELAY (see process_and_close_socket).
#include <httplib.h>

#include <chrono>

namespace squeezenet::serve {

class DeadlineServer : public httplib::Server {
 public:
  void set_read_deadline(std::chrono::milliseconds deadline) { read_deadline_ = deadline; }

 private:
  bool process_and_close_socket(socket_t sock) override;
  // Waits, as the library does, for the next request on a kept-alive connection; false when the client is idle
  // for the keep-alive timeout or the server stops.
  bool next_request_arrives(socket_t sock) const;

  std::chrono::milliseconds read_deadline_{30'000};
};

}  // namespace squeezenet::serve
