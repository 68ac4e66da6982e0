#pragma once
// The private seam between a core and the kernel: epoll or io_uring.
// Components never see it (as Seastar's reactor_backend). Every operation is
// called from a fiber of the reactor's own core and parks that fiber until
// the kernel has answered; errors come back as values.

#include <netinet/in.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "runtime/result.h"
#include "runtime/sync.h"

namespace doppel::real {

class Core;

// A socket owned by one core. Backends keep their own state alongside.
struct Socket {
  int fd = -1;
  WaitList readers;  // epoll: fibers waiting for readability
  WaitList writers;  // epoll: fibers waiting for writability
  // epoll: the kernel may have bytes we have not read. Cleared by a read that came back short
  // (it took all there was) and set by the next readiness edge, so the read that would only
  // say EAGAIN is never made.
  bool readable = true;
  std::uint32_t generation = 0;
  // uring: what multishot receive and accept have delivered, not yet taken
  std::string pending;
  std::size_t pending_read = 0;
  std::deque<int> accepted;
  void* multishot = nullptr;  // the reactor's state of an armed multishot
  bool peer_closed = false;   // uring: its receive ended; epoll: the peer's FIN or an error came
  int sticky_error = 0;
};

class Reactor {
 public:
  virtual ~Reactor() = default;
  virtual std::string_view name() const = 0;

  // Waits for kernel events up to timeout_ns (-1: until woken, 0: no wait)
  // and wakes the fibers they concern.
  virtual void poll(std::int64_t timeout_ns) = 0;
  // Interrupts poll() from any thread.
  virtual void wake() = 0;

  virtual Status attach(Socket& s) = 0;  // a new non-blocking socket
  virtual void detach(Socket& s) = 0;    // before close(2)
  virtual Result<std::size_t> recv(Socket& s, std::span<char> into, Instant deadline) = 0;
  virtual Status send(Socket& s, std::string_view bytes, Instant deadline) = 0;
  virtual Result<int> accept(Socket& listener, Instant deadline) = 0;  // a connected fd
  virtual Status connect(Socket& s, const sockaddr_in& to, Instant deadline) = 0;

  virtual Result<std::size_t> pread(int fd, std::span<char> into, std::uint64_t offset) = 0;
  virtual Status pwrite(int fd, std::string_view bytes, std::uint64_t offset) = 0;
  virtual Status fdatasync(int fd) = 0;
  virtual Status fallocate(int fd, int mode, std::uint64_t offset, std::uint64_t length) = 0;
  // unlinkat(2): freeing a large file's blocks waits on the disk (a discard), ~1 ms here.
  virtual Status unlink(int dirfd, const std::string& path, int flags) = 0;

  // The core is stopping: make every in-flight kernel operation finish soon.
  virtual void cancel_all() {}
};

// The monotonic clock (CLOCK_MONOTONIC).
Instant monotonic_now();

// errno as an Error, with context.
Error errno_error(int err, std::string what);

std::unique_ptr<Reactor> make_epoll_reactor(Core& core);
// Null with the reason in *why when io_uring is unavailable.
std::unique_ptr<Reactor> make_uring_reactor(Core& core, std::string* why);

}  // namespace doppel::real
