#include "components/http/body_sinks.h"

namespace doppel::http {
namespace {

constexpr std::size_t kChunkFrameBytes = 20;  // hex size and two CRLFs

void append_hex(std::string& out, std::size_t n) {
  char digits[16];
  int count = 0;
  do {
    digits[count++] = "0123456789abcdef"[n % 16];
    n /= 16;
  } while (n > 0);
  while (count > 0) out += digits[--count];
}

}  // namespace

Status LengthSink::write(std::string_view bytes) {
  if (bytes.size() > remaining_) return make_error(Errc::too_large, "body wrote past its length");
  remaining_ -= bytes.size();
  if (bytes.empty()) return {};
  return stream_.write(bytes, deadline_.next());
}

Status ChunkedSink::write(std::string_view bytes) {
  if (bytes.empty()) return {};  // an empty chunk would end the body
  frame_.clear();
  frame_.reserve(bytes.size() + kChunkFrameBytes);
  append_hex(frame_, bytes.size());
  frame_ += "\r\n";
  frame_ += bytes;
  frame_ += "\r\n";
  return stream_.write(frame_, deadline_.next());
}

Status ChunkedSink::finish() {
  return stream_.write("0\r\n\r\n", deadline_.next());
}

Status RawSink::write(std::string_view bytes) {
  if (bytes.empty()) return {};
  return stream_.write(bytes, deadline_.next());
}

}  // namespace doppel::http
