// Connections of the HTTP server. cpp-httplib 0.11 gives handlers no access to their socket, and a
// non-streaming handler writes nothing until its answer is ready, so it could not tell that its
// client hung up. This server runs each connection itself (the extension point httplib's own
// SSLServer uses: process_and_close_socket over a Stream of ours, the parsing and routing left to
// httplib's process_request) and publishes the connection's socket to the handler's thread.
#pragma once

#include <httplib.h>

namespace autoglm::server {

class ConnectionServer : public httplib::Server {
 public:
  // httplib listens with a backlog of 5; a burst of clients would then wait for SYN retries.
  void widen_backlog(int n);

 private:
  // httplib's keep-alive loop (same limits and timeouts) with the socket published to handlers.
  bool process_and_close_socket(socket_t sock) override;
};

// The socket of the connection whose request this thread is handling, or -1 outside one.
int current_connection();

// True when the peer of `sock` has closed or reset the connection (or shut down its sending
// side: an HTTP client that stops sending is leaving). Never blocks; false for sock < 0.
bool peer_hung_up(int sock);

}  // namespace autoglm::server
