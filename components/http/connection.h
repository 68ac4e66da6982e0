#pragma once
// One connection of the server (server.h): reads requests, has the handler answer them in order,
// writes the answers (batching those of pipelined requests), and closes cleanly. Internal to the
// library.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "components/http/parser.h"
#include "components/http/server.h"

namespace doppel::http {

class ServerConnection {
 public:
  // Answers of pipelined requests wait in one buffer up to this size before being written.
  static constexpr std::size_t kOutBytesMax = 64u << 10;
  // Reasons in status lines and error bodies are cut to this.
  static constexpr std::size_t kReasonBytesMax = 200;

  // Answers are counted in `metrics` (the core's: server.h lists what).
  ServerConnection(Runtime& rt, const ServerOptions& options, const Handler& handler,
                   Stream& stream, const bool& stopping, metrics::MetricSet& metrics);

  // Serves requests until the connection ends; closes the stream.
  void run();
  // Waiting for the first byte of a new request: closing it loses nothing.
  bool idle() const { return idle_; }
  // Closes the stream under the connection (stop() does, from another fiber).
  void close() { stream_.close(); }

 private:
  bool read_more();
  // The deadline of the next read: idle_timeout, or sooner as the head's or the body's
  // deadline falls; `why` names the one that bounds it.
  Instant read_deadline(Instant now, bool idle, std::string_view* why);
  bool flush();
  Status write_in_pieces(std::string_view bytes);
  bool answer(Request& request);
  Response invoke(Request& request);
  bool send(const Request& request, Response& response, bool chunked, bool close);
  bool send_streamed(Response& response, bool chunked);
  void answer_error(int status, std::string_view reason);
  void count(const Request& request, int status, Instant started);
  Headers response_headers(const Response& response, bool chunked, bool close) const;
  Instant write_deadline() { return deadline_after(rt_.now(), options_.write_timeout); }

  Runtime& rt_;
  const ServerOptions& options_;
  const Handler& handler_;
  Stream& stream_;
  const bool& stopping_;
  metrics::MetricSet& metrics_;
  RequestParser parser_;
  std::string in_;
  std::string out_;
  std::unique_ptr<char[]> read_buffer_;
  bool idle_ = false;
  Instant request_started_ = kNever;  // the current request's first byte
  Instant body_started_ = kNever;     // its body's (kNever: not in its body yet)
  std::uint64_t body_read_ = 0;       // bytes read since the body began
};

// A whole error answer with "Connection: close" and the reason as its one-line body.
std::string format_error_response(Runtime& rt, const ServerOptions& options, int status,
                                  std::string_view reason);

// Reads and drops what the peer still sends (bounded by the options' linger limits), then
// closes: closing with unread bytes would reset the connection and lose the answer in flight.
void linger_and_close(Runtime& rt, const ServerOptions& options, Stream& stream);

// `text` on one line (controls become spaces), at most `bytes_max` bytes.
std::string one_line(std::string_view text, std::size_t bytes_max);

}  // namespace doppel::http
