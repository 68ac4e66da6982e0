// The epoll backend: readiness-based. Sockets are registered edge-triggered
// once; an operation tries the system call first and parks on the socket's
// readers or writers only when the kernel says EAGAIN, so a readiness edge
// that nobody waited for is never needed. Files are read with plain blocking
// calls on the core's thread (the kernel's page cache makes most of them
// short); the calls that wait on the disk -- fdatasync, fallocate, a large
// pwrite -- go to the core's helper thread (BlockingCalls), so the core serves
// its other fibers meanwhile.

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/real/blocking_calls.h"
#include "runtime/real/core.h"
#include "runtime/real/reactor.h"

namespace doppel::real {
namespace {

class EpollReactor final : public Reactor {
 public:
  static constexpr int kEventsPerPoll = 256;
  // A pwrite this large is a page-cache copy long enough to be worth the helper's round trip.
  static constexpr std::size_t kHelperWriteBytes = 128u << 10;

  explicit EpollReactor(Core& core) : core_(core) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    DOPPEL_ASSERT(epfd_ >= 0 && wakefd_ >= 0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake-up eventfd
    DOPPEL_ASSERT(::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) == 0);
  }
  ~EpollReactor() override {
    ::close(wakefd_);
    ::close(epfd_);
  }

  std::string_view name() const override { return "epoll"; }

  void poll(std::int64_t timeout_ns) override {
    epoll_event events[kEventsPerPoll];
    const int timeout_ms =
        timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
    const int n = ::epoll_wait(epfd_, events, kEventsPerPoll, timeout_ms);
    for (int i = 0; i < n; ++i) {
      auto* s = static_cast<Socket*>(events[i].data.ptr);
      if (s == nullptr) {
        // One read takes the whole count: an eventfd is a counter, not a queue.
        std::uint64_t drained;
        [[maybe_unused]] ssize_t r = ::read(wakefd_, &drained, sizeof drained);
        continue;
      }
      const std::uint32_t e = events[i].events;
      if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        s->readable = true;
        // No edge follows the peer's FIN: reads must find its end without waiting for one.
        if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->peer_closed = true;
        s->readers.notify_all();
      }
      if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) s->writers.notify_all();
    }
    blocking_.complete();
  }

  void wake() override {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wakefd_, &one, sizeof one);
  }

  Status attach(Socket& s) override {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &s;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, s.fd, &ev) != 0) return errno_error(errno, "epoll_ctl");
    return {};
  }

  void detach(Socket& s) override { ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s.fd, nullptr); }

  // Edge-triggered, a socket reports every arrival after a read that emptied it, so a short
  // read (fewer bytes than asked: the kernel had no more) lets the next recv wait for the edge
  // instead of asking the kernel to say EAGAIN: a system call less per request (memcached
  // reads the same way). Not once the peer closed: its FIN came with the edge already taken,
  // and the read that finds the end of the stream must not wait for another (a client that
  // read a response's last bytes and its FIN in one edge waited out its whole deadline).
  Result<std::size_t> recv(Socket& s, std::span<char> into, Instant deadline) override {
    for (;;) {
      if (!s.readable) {
        if (s.readers.wait(core_rt(), deadline) == Wake::timed_out)
          return make_error(Errc::timed_out, "recv");
        if (s.fd < 0) return make_error(Errc::closed);
        continue;
      }
      const ssize_t n = ::recv(s.fd, into.data(), into.size(), 0);
      if (n > 0) {
        if (static_cast<std::size_t>(n) < into.size() && !s.peer_closed) s.readable = false;
        return static_cast<std::size_t>(n);
      }
      if (n == 0) return std::size_t{0};
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return errno_error(errno, "recv");
      s.readable = false;
      if (s.readers.wait(core_rt(), deadline) == Wake::timed_out)
        return make_error(Errc::timed_out, "recv");
      if (s.fd < 0) return make_error(Errc::closed);
    }
  }

  Status send(Socket& s, std::string_view bytes, Instant deadline) override {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(s.fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n >= 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return errno_error(errno, "send");
      if (s.writers.wait(core_rt(), deadline) == Wake::timed_out)
        return make_error(Errc::timed_out, "send");
      if (s.fd < 0) return make_error(Errc::closed);
    }
    return {};
  }

  Result<int> accept(Socket& l, Instant deadline) override {
    for (;;) {
      const int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) return fd;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) return errno_error(errno, "accept");
      if (l.readers.wait(core_rt(), deadline) == Wake::timed_out)
        return make_error(Errc::timed_out, "accept");
      if (l.fd < 0) return make_error(Errc::closed);
    }
  }

  Status connect(Socket& s, const sockaddr_in& to, Instant deadline) override {
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) return {};
    if (errno != EINPROGRESS) return errno_error(errno, "connect");
    for (;;) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return errno_error(err, "connect");
      // Writable means connected (or failed, which SO_ERROR then says).
      if (s.writers.wait(core_rt(), deadline) == Wake::timed_out) {
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) return errno_error(err, "connect");
        sockaddr_in peer{};
        socklen_t plen = sizeof peer;
        if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) return {};
        return make_error(Errc::timed_out, "connect");
      }
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return errno_error(err, "connect");
      sockaddr_in peer{};
      socklen_t plen = sizeof peer;
      if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) return {};
    }
  }

  Result<std::size_t> pread(int fd, std::span<char> into, std::uint64_t offset) override {
    for (;;) {
      const ssize_t n = ::pread(fd, into.data(), into.size(), static_cast<off_t>(offset));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return errno_error(errno, "pread");
    }
  }

  Status pwrite(int fd, std::string_view bytes, std::uint64_t offset) override {
    if (bytes.size() >= kHelperWriteBytes) {
      const int err =
          blocking_.run(core_, [fd, bytes, offset] { return write_fully(fd, bytes, offset); });
      return err == 0 ? Status{} : Status(errno_error(err, "pwrite"));
    }
    const int err = write_fully(fd, bytes, offset);
    return err == 0 ? Status{} : Status(errno_error(err, "pwrite"));
  }

  Status fdatasync(int fd) override {
    const int err = blocking_.run(core_, [fd] { return ::fdatasync(fd) == 0 ? 0 : errno; });
    return err == 0 ? Status{} : Status(errno_error(err, "fdatasync"));
  }

  Status fallocate(int fd, int mode, std::uint64_t offset, std::uint64_t length) override {
    const int err = blocking_.run(core_, [=] {
      return ::fallocate(fd, mode, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0
                 ? 0
                 : errno;
    });
    return err == 0 ? Status{} : Status(errno_error(err, "fallocate"));
  }

  Status unlink(int dirfd, const std::string& path, int flags) override {
    const int err = blocking_.run(
        core_, [&] { return ::unlinkat(dirfd, path.c_str(), flags) == 0 ? 0 : errno; });
    return err == 0 ? Status{} : Status(errno_error(err, "unlink"));
  }

 private:
  // 0, or the errno of the failed call.
  static int write_fully(int fd, std::string_view bytes, std::uint64_t offset) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n =
          ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      done += static_cast<std::size_t>(n);
    }
    return 0;
  }

  Runtime& core_rt() { return core_.runtime(); }
  Core& core_;
  int epfd_ = -1;
  int wakefd_ = -1;
  BlockingCalls blocking_{[this] { wake(); }};
};

}  // namespace

std::unique_ptr<Reactor> make_epoll_reactor(Core& core) {
  return std::make_unique<EpollReactor>(core);
}

}  // namespace doppel::real
