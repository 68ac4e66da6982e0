// The io_uring backend: completion-based. Every socket and file operation is
// a submission; the fiber parks until its completion arrives, and the ring
// (io_uring_submit_and_wait_timeout) is where an idle core sleeps. Deadlines
// are linked timeouts. Where the kernel supports them (6.0+), listeners use
// multishot accept and streams multishot receive into a ring of provided
// buffers; otherwise one-shot accept and receive. The choice is detected at
// start and logged once.
//
// The kernel may hold a pointer into a parked fiber's stack (the buffer of a
// send, the result slot), so these waits ignore stop requests: at stop the
// reactor cancels everything in flight and the waits end with -ECANCELED.

#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "runtime/real/core.h"
#include "runtime/real/reactor.h"

namespace doppel::real {
namespace {

constexpr unsigned kRingEntries = 1024;
// Provided buffers are held only until their bytes are copied to the stream's pending input (at
// once), so a small pool serves many connections; the kernel touches every buffer as the ring
// cycles, so the whole pool counts in RSS (kBufferCount x kBufferBytes per core). When it runs
// dry the receive ends with ENOBUFS and is armed again by the next read.
constexpr unsigned kBufferCount = 256;      // provided buffers per core
constexpr unsigned kBufferBytes = 4 << 10;  // each
constexpr unsigned short kBufferGroup = 7;
constexpr std::size_t kPendingBytesMax = 1 << 20;  // per stream, then receive pauses

// A completion handler; the CQE's user_data points at one.
struct Completion {
  virtual ~Completion() = default;
  virtual void complete(int res, unsigned flags) = 0;
};

struct Ignore final : Completion {
  void complete(int, unsigned) override {}
};
Ignore g_ignore;

// One operation of one fiber.
struct OneShot final : Completion {
  Waiter waiter;
  int res = 0;
  bool done = false;
  void complete(int r, unsigned) override {
    res = r;
    done = true;
    unpark(waiter);
  }
};

bool kernel_at_least(int major, int minor) {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int a = 0, b = 0;
  if (std::sscanf(u.release, "%d.%d", &a, &b) != 2) return false;
  return a > major || (a == major && b >= minor);
}

class UringReactor;

// The state of an armed multishot accept or receive. Outlives its socket
// until the kernel's last completion for it (the one without F_MORE).
struct Multishot final : Completion {
  UringReactor* reactor = nullptr;
  Socket* socket = nullptr;  // null once the socket is gone
  bool is_accept = false;
  bool armed = false;
  void complete(int res, unsigned flags) override;
};

class UringReactor final : public Reactor {
 public:
  UringReactor(Core& core) : core_(core) {}
  ~UringReactor() override {
    if (ring_ok_) ::io_uring_queue_exit(&ring_);
    if (wakefd_ >= 0) ::close(wakefd_);
    if (buf_ring_ != nullptr) ::munmap(buf_ring_, buf_ring_bytes_);
  }

  bool init(std::string* why) {
    // Not IORING_SETUP_COOP_TASKRUN: with it, the completion of our eventfd
    // read, when another core writes the eventfd, could leave this core
    // asleep in io_uring_enter (seen on 6.x: the cross-core wake-up hung).
    // DEFER_TASKRUN (Linux 6.1; needs SINGLE_ISSUER, and the ring is made on the core's own
    // thread): the kernel runs the task work of our completions only when we enter the ring
    // (poll), not on the exit of every system call. Without it, multishot receives ran on our
    // sends' exits and fought over socket locks: 24 % of a KV server's CPU, throughput 0.63x
    // epoll's; with it, on par. Our eventfd read is entered for in poll() like everything else,
    // so a cross-core wake-up is not lost (unlike with COOP_TASKRUN, above).
    int rc = ::io_uring_queue_init(kRingEntries, &ring_,
                                   IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    defer_taskrun_ = rc >= 0;
    if (rc < 0) rc = ::io_uring_queue_init(kRingEntries, &ring_, IORING_SETUP_SINGLE_ISSUER);
    if (rc < 0) rc = ::io_uring_queue_init(kRingEntries, &ring_, 0);
    if (rc < 0) {
      *why = std::string("io_uring_queue_init: ") + std::strerror(-rc);
      return false;
    }
    ring_ok_ = true;
    wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd_ < 0) {
      *why = "eventfd failed";
      return false;
    }
    io_uring_probe* probe = ::io_uring_get_probe_ring(&ring_);
    const bool ops = probe != nullptr && io_uring_opcode_supported(probe, IORING_OP_ACCEPT) &&
                     io_uring_opcode_supported(probe, IORING_OP_RECV) &&
                     io_uring_opcode_supported(probe, IORING_OP_SEND) &&
                     io_uring_opcode_supported(probe, IORING_OP_CONNECT) &&
                     io_uring_opcode_supported(probe, IORING_OP_LINK_TIMEOUT);
    if (probe != nullptr) ::io_uring_free_probe(probe);
    if (!ops) {
      *why = "the kernel's io_uring lacks accept/recv/send/connect/link-timeout";
      return false;
    }
    multishot_ = kernel_at_least(6, 0) && setup_buffers();
    if (core_.id() == 0) {
      std::fprintf(
          stderr, "doppel: io_uring backend: %s\n",
          multishot_ ? "multishot accept and receive with a provided-buffer ring"
                     : "one-shot accept and receive (multishot needs Linux 6.0 and buffer rings)");
    }
    return true;
  }

  std::string_view name() const override { return multishot_ ? "uring (multishot)" : "uring"; }

  void poll(std::int64_t timeout_ns) override {
    if (!wake_armed_) arm_wake();
    io_uring_cqe* cqe = nullptr;
    if (timeout_ns == 0) {
      ::io_uring_submit(&ring_);
      if (defer_taskrun_) ::io_uring_get_events(&ring_);  // run deferred task work, post CQEs
    } else if (timeout_ns < 0) {
      ::io_uring_submit_and_wait(&ring_, 1);
    } else {
      __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
      ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      auto* c = reinterpret_cast<Completion*>(static_cast<std::uintptr_t>(cqe->user_data));
      if (c != nullptr) c->complete(cqe->res, cqe->flags);
    }
    ::io_uring_cq_advance(&ring_, seen);
  }

  void wake() override {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakefd_, &one, sizeof one);
  }

  Status attach(Socket&) override { return {}; }

  void detach(Socket& s) override {
    if (s.multishot == nullptr) return;
    auto* m = static_cast<Multishot*>(s.multishot);
    m->socket = nullptr;
    s.multishot = nullptr;
    if (m->armed) {
      io_uring_sqe* sqe = sqe_or_submit();
      ::io_uring_prep_cancel(sqe, m, 0);
      io_uring_sqe_set_data(sqe, &g_ignore);
    } else {
      multishots_.erase(m);
    }
    for (int fd : s.accepted) ::close(fd);
    s.accepted.clear();
  }

  Result<std::size_t> recv(Socket& s, std::span<char> into, Instant deadline) override {
    if (!multishot_) {
      Result<int> n = run(deadline, [&](io_uring_sqe* sqe) {
        ::io_uring_prep_recv(sqe, s.fd, into.data(), into.size(), 0);
      });
      if (!n) return n.error();
      return static_cast<std::size_t>(*n);
    }
    for (;;) {
      if (s.pending_read < s.pending.size()) {
        const std::size_t n = std::min(into.size(), s.pending.size() - s.pending_read);
        std::memcpy(into.data(), s.pending.data() + s.pending_read, n);
        s.pending_read += n;
        if (s.pending_read == s.pending.size()) {
          s.pending.clear();
          s.pending_read = 0;
        }
        return n;
      }
      if (s.peer_closed) return std::size_t{0};
      if (s.sticky_error != 0) return errno_error(s.sticky_error, "recv");
      arm(s, false);
      if (s.readers.wait(core_.runtime(), deadline) == Wake::timed_out)
        return make_error(Errc::timed_out, "recv");
      if (s.fd < 0) return make_error(Errc::closed);
    }
  }

  Status send(Socket& s, std::string_view bytes, Instant deadline) override {
    std::size_t done = 0;
    while (done < bytes.size()) {
      Result<int> n = run(deadline, [&](io_uring_sqe* sqe) {
        ::io_uring_prep_send(sqe, s.fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      });
      if (!n) return n.error();
      done += static_cast<std::size_t>(*n);
    }
    return {};
  }

  Result<int> accept(Socket& l, Instant deadline) override {
    if (!multishot_) {
      return run(deadline, [&](io_uring_sqe* sqe) {
        ::io_uring_prep_accept(sqe, l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      });
    }
    for (;;) {
      if (!l.accepted.empty()) {
        const int fd = l.accepted.front();
        l.accepted.pop_front();
        return fd;
      }
      if (l.sticky_error != 0) {
        const int err = l.sticky_error;
        l.sticky_error = 0;
        return errno_error(err, "accept");
      }
      arm(l, true);
      if (l.readers.wait(core_.runtime(), deadline) == Wake::timed_out)
        return make_error(Errc::timed_out, "accept");
      if (l.fd < 0) return make_error(Errc::closed);
    }
  }

  Status connect(Socket& s, const sockaddr_in& to, Instant deadline) override {
    Result<int> r = run(deadline, [&](io_uring_sqe* sqe) {
      ::io_uring_prep_connect(sqe, s.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    });
    if (!r) return r.error();
    return {};
  }

  Result<std::size_t> pread(int fd, std::span<char> into, std::uint64_t offset) override {
    Result<int> n = run(kNever, [&](io_uring_sqe* sqe) {
      ::io_uring_prep_read(sqe, fd, into.data(), static_cast<unsigned>(into.size()), offset);
    });
    if (!n) return n.error();
    return static_cast<std::size_t>(*n);
  }

  Status pwrite(int fd, std::string_view bytes, std::uint64_t offset) override {
    std::size_t done = 0;
    while (done < bytes.size()) {
      Result<int> n = run(kNever, [&](io_uring_sqe* sqe) {
        ::io_uring_prep_write(sqe, fd, bytes.data() + done,
                              static_cast<unsigned>(bytes.size() - done), offset + done);
      });
      if (!n) return n.error();
      if (*n == 0) return make_error(Errc::io_error, "pwrite wrote nothing");
      done += static_cast<std::size_t>(*n);
    }
    return {};
  }

  Status fdatasync(int fd) override {
    Result<int> r = run(
        kNever, [&](io_uring_sqe* sqe) { ::io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC); });
    if (!r) return r.error();
    return {};
  }

  Status fallocate(int fd, int mode, std::uint64_t offset, std::uint64_t length) override {
    Result<int> r = run(kNever, [&](io_uring_sqe* sqe) {
      ::io_uring_prep_fallocate(sqe, fd, mode, offset, length);
    });
    if (!r) return r.error();
    return {};
  }

  Status unlink(int dirfd, const std::string& path, int flags) override {
    Result<int> r = run(kNever, [&](io_uring_sqe* sqe) {
      ::io_uring_prep_unlinkat(sqe, dirfd, path.c_str(), flags);
    });
    if (!r) return r.error();
    return {};
  }

  void cancel_all() override {
    io_uring_sqe* sqe = sqe_or_submit();
    ::io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data(sqe, &g_ignore);
    ::io_uring_submit(&ring_);
  }

  // --- for Multishot
  void on_data(Socket& s, int res, unsigned flags) {
    if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
      const unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
      s.pending.append(buffers_ + static_cast<std::size_t>(bid) * kBufferBytes,
                       static_cast<std::size_t>(res));
      recycle(bid);
      if (s.pending.size() - s.pending_read > kPendingBytesMax) pause(s);
    } else if (res == 0) {
      s.peer_closed = true;
    } else if (res < 0 && res != -ENOBUFS && res != -ECANCELED) {
      s.sticky_error = -res;
    }
    s.readers.notify_all();
  }
  void recycle_orphan(int res, unsigned flags) {
    if (res > 0 && (flags & IORING_CQE_F_BUFFER)) recycle(flags >> IORING_CQE_BUFFER_SHIFT);
  }
  void forget(Multishot* m) { multishots_.erase(m); }

 private:
  template <class Prep>
  Result<int> run(Instant deadline, Prep prep) {
    OneShot op;
    io_uring_sqe* sqe = sqe_or_submit();
    prep(sqe);
    io_uring_sqe_set_data(sqe, &op);
    __kernel_timespec ts{};
    if (deadline != kNever) {
      const std::int64_t left = std::max<std::int64_t>(0, to_ns(deadline) - to_ns(monotonic_now()));
      ts.tv_sec = left / 1'000'000'000;
      ts.tv_nsec = left % 1'000'000'000;
      sqe->flags |= IOSQE_IO_LINK;
      io_uring_sqe* t = sqe_or_submit();
      ::io_uring_prep_link_timeout(t, &ts, 0);
      io_uring_sqe_set_data(t, &g_ignore);
    }
    while (!op.done) core_.park_raw(op.waiter);
    if (core_.stopping() && std::uncaught_exceptions() == 0) throw Cancelled{};
    if (op.res == -ECANCELED && deadline != kNever)
      return make_error(Errc::timed_out, "io_uring operation");
    if (op.res < 0) return errno_error(-op.res, "io_uring operation");
    return op.res;
  }

  io_uring_sqe* sqe_or_submit() {
    io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
      ::io_uring_submit(&ring_);
      sqe = ::io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void arm_wake() {
    io_uring_sqe* sqe = sqe_or_submit();
    ::io_uring_prep_read(sqe, wakefd_, &wake_value_, sizeof wake_value_, 0);
    io_uring_sqe_set_data(sqe, &wake_completion_);
    wake_armed_ = true;
  }

  void arm(Socket& s, bool is_accept) {
    auto* m = static_cast<Multishot*>(s.multishot);
    if (m != nullptr && m->armed) return;
    if (m == nullptr) {
      auto owned = std::make_unique<Multishot>();
      m = owned.get();
      m->reactor = this;
      m->socket = &s;
      m->is_accept = is_accept;
      multishots_.emplace(m, std::move(owned));
      s.multishot = m;
    }
    io_uring_sqe* sqe = sqe_or_submit();
    if (is_accept) {
      ::io_uring_prep_multishot_accept(sqe, s.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } else {
      ::io_uring_prep_recv_multishot(sqe, s.fd, nullptr, 0, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = kBufferGroup;
    }
    io_uring_sqe_set_data(sqe, m);
    m->armed = true;
  }

  void pause(Socket& s) {
    auto* m = static_cast<Multishot*>(s.multishot);
    if (m == nullptr || !m->armed) return;
    io_uring_sqe* sqe = sqe_or_submit();
    ::io_uring_prep_cancel(sqe, m, 0);
    io_uring_sqe_set_data(sqe, &g_ignore);
  }

  bool setup_buffers() {
    buf_ring_bytes_ = kBufferCount * sizeof(io_uring_buf);
    void* mem = ::mmap(nullptr, buf_ring_bytes_, PROT_READ | PROT_WRITE,
                       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return false;
    buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(buf_ring_);
    reg.ring_entries = kBufferCount;
    reg.bgid = kBufferGroup;
    if (::io_uring_register_buf_ring(&ring_, &reg, 0) != 0) {
      ::munmap(buf_ring_, buf_ring_bytes_);
      buf_ring_ = nullptr;
      return false;
    }
    storage_.reset(new char[static_cast<std::size_t>(kBufferCount) * kBufferBytes]);
    buffers_ = storage_.get();
    ::io_uring_buf_ring_init(buf_ring_);
    for (unsigned i = 0; i < kBufferCount; ++i) {
      ::io_uring_buf_ring_add(buf_ring_, buffers_ + static_cast<std::size_t>(i) * kBufferBytes,
                              kBufferBytes, static_cast<unsigned short>(i),
                              ::io_uring_buf_ring_mask(kBufferCount), static_cast<int>(i));
    }
    ::io_uring_buf_ring_advance(buf_ring_, static_cast<int>(kBufferCount));
    return true;
  }

  void recycle(unsigned bid) {
    ::io_uring_buf_ring_add(buf_ring_, buffers_ + static_cast<std::size_t>(bid) * kBufferBytes,
                            kBufferBytes, static_cast<unsigned short>(bid),
                            ::io_uring_buf_ring_mask(kBufferCount), 0);
    ::io_uring_buf_ring_advance(buf_ring_, 1);
  }

  struct WakeCompletion final : Completion {
    UringReactor* r;
    explicit WakeCompletion(UringReactor* r) : r(r) {}
    void complete(int, unsigned) override { r->wake_armed_ = false; }
  };

  Core& core_;
  io_uring ring_{};
  bool ring_ok_ = false;
  int wakefd_ = -1;
  std::uint64_t wake_value_ = 0;
  bool wake_armed_ = false;
  WakeCompletion wake_completion_{this};
  bool multishot_ = false;
  io_uring_buf_ring* buf_ring_ = nullptr;
  std::size_t buf_ring_bytes_ = 0;
  std::unique_ptr<char[]> storage_;
  bool defer_taskrun_ = false;
  char* buffers_ = nullptr;
  std::map<Multishot*, std::unique_ptr<Multishot>> multishots_;
};

void Multishot::complete(int res, unsigned flags) {
  UringReactor* r = reactor;
  const bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (!more) armed = false;
  if (socket == nullptr) {
    // Its socket is gone: give back what the kernel handed us.
    if (is_accept && res >= 0) ::close(res);
    if (!is_accept) r->recycle_orphan(res, flags);
    if (!more) r->forget(this);  // deletes this
    return;
  }
  Socket& s = *socket;
  if (is_accept) {
    if (res >= 0) {
      s.accepted.push_back(res);
    } else if (res != -ECANCELED) {
      s.sticky_error = -res;
    }
    s.readers.notify_all();
    return;
  }
  r->on_data(s, res, flags);
}

}  // namespace

std::unique_ptr<Reactor> make_uring_reactor(Core& core, std::string* why) {
  auto r = std::make_unique<UringReactor>(core);
  if (!r->init(why)) return nullptr;
  return r;
}

}  // namespace doppel::real
