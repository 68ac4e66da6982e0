#pragma once
// The BodySinks a streamed body is written through, shared by the server (responses) and the
// client (requests): one for a declared length, one that frames each write as a chunk, one for
// a body that the close ends. Internal to the library.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "components/http/message.h"
#include "runtime/runtime.h"

namespace doppel::http {

// When each write must be done: `per_write` after it starts, and never after `overall`.
struct WriteDeadline {
  Runtime& rt;
  Duration per_write;
  Instant overall = kNever;
  Instant next() const { return std::min(deadline_after(rt.now(), per_write), overall); }
};

// Exactly `length` bytes: a write past the length is refused (the head is already out).
class LengthSink final : public BodySink {
 public:
  LengthSink(Stream& stream, WriteDeadline deadline, std::uint64_t length)
      : stream_(stream), deadline_(deadline), remaining_(length) {}
  Status write(std::string_view bytes) override;
  std::uint64_t remaining() const { return remaining_; }

 private:
  Stream& stream_;
  WriteDeadline deadline_;
  std::uint64_t remaining_;
};

// Each write is one chunk; finish() writes the last, empty, chunk.
class ChunkedSink final : public BodySink {
 public:
  ChunkedSink(Stream& stream, WriteDeadline deadline) : stream_(stream), deadline_(deadline) {}
  Status write(std::string_view bytes) override;
  Status finish();

 private:
  Stream& stream_;
  WriteDeadline deadline_;
  std::string frame_;
};

// Bytes as they come; the close ends the body.
class RawSink final : public BodySink {
 public:
  RawSink(Stream& stream, WriteDeadline deadline) : stream_(stream), deadline_(deadline) {}
  Status write(std::string_view bytes) override;

 private:
  Stream& stream_;
  WriteDeadline deadline_;
};

}  // namespace doppel::http
