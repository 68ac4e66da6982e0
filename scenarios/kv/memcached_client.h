#pragma once
// A small memcached text-protocol client for simulated workloads: it sends
// pipelined requests and reads their replies in order, checking that each
// reply has the shape its request expects.

#include <string>
#include <vector>

#include "runtime/net.h"
#include "runtime/result.h"

namespace doppel::scenarios::kv {

struct McRequest {
  std::string f;    // get | set | append | delete
  std::string key;
  std::string value;  // set, append
};

struct McReply {
  std::string word;   // VALUE (a hit), END (a miss), STORED, NOT_STORED, DELETED, NOT_FOUND, ...
  std::string value;  // for VALUE
};

std::string encode(const McRequest& r);

class McReader {
 public:
  static constexpr std::size_t kBufferBytesMax = 4 << 20;
  explicit McReader(Stream& s) : s_(s) {}
  // The next reply for `request`. Errors: the stream failed (timed_out, reset,
  // closed), or Errc::protocol when the reply does not fit the request (a
  // VALUE for another key, STORED to a get...), with what came in `what`.
  Result<McReply> next(const McRequest& request, Instant deadline);

 private:
  Result<std::string> line(Instant deadline);
  Status need(std::size_t bytes, Instant deadline);
  Stream& s_;
  std::string buf_;
  std::size_t start_ = 0;
};

}  // namespace doppel::scenarios::kv
