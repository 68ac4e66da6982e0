#include "runtime/real/real_runtime.h"

#include <time.h>

#include <cstdio>
#include <future>

#include "runtime/real/core.h"
#include "runtime/real/tls.h"

namespace doppel::real {
namespace {

std::int64_t clock_ns(clockid_t id) {
  timespec ts;
  ::clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

RealRuntime::RealRuntime(RealOptions options) : options_(std::move(options)) {
  DOPPEL_ASSERT(options_.cores >= 1);
  for (CoreId i = 0; i < options_.cores; ++i) {
    cores_.push_back(std::make_unique<Core>(*this, i, options_.cores));
  }
}

RealRuntime::~RealRuntime() {
  stop();
}

Status RealRuntime::start() {
  DOPPEL_ASSERT(!started_);
  Status fs_status;
  fs_ = make_real_file_system(options_.data_dir, &fs_status);
  if (!fs_status) return fs_status;
  for (auto& c : cores_) {
    Status s = c->start(options_.pin, options_.backend);
    if (!s) {
      started_ = true;
      stop();
      return s;
    }
  }
  backend_name_ = std::string(cores_[0]->backend_name());
  started_ = true;
  return {};
}

void RealRuntime::run_blocking(CoreId core, Task fn) {
  DOPPEL_ASSERT(Core::current() == nullptr);
  // Signals when the task is destroyed: after it ran, or unrun if the core
  // was stopping. Either way the caller must not wait forever.
  struct Notifier {
    std::promise<void> done;
    ~Notifier() { done.set_value(); }
  };
  auto notifier = std::make_shared<Notifier>();
  auto finished = notifier->done.get_future();
  auto* task = new Task([fn = std::move(fn), notifier = std::move(notifier)]() mutable { fn(); });
  cores_[core]->send(Core::kExternal, Message{Message::Kind::spawn, task});
  finished.wait();
}

void RealRuntime::stop() {
  if (!started_) return;
  for (auto& c : cores_) c->request_stop();
  for (auto& c : cores_) c->join();
  started_ = false;
}

Core& RealRuntime::this_core_checked() {
  Core* c = Core::current();
  DOPPEL_ASSERT_MSG(c != nullptr, "a runtime call from a thread that is not a core");
  return *c;
}

Instant RealRuntime::now() {
  return instant_ns(clock_ns(CLOCK_MONOTONIC));
}
WallTime RealRuntime::wall_now() {
  return WallTime(Duration(clock_ns(CLOCK_REALTIME)));
}

void RealRuntime::sleep(Duration d) {
  Waiter w;
  park(w, deadline_after(now(), d));
}

Prng& RealRuntime::random() {
  return this_core_checked().rng();
}

CoreId RealRuntime::this_core() {
  Core* c = Core::current();
  return c == nullptr ? 0 : c->id();
}

void RealRuntime::spawn(std::string_view, Task fn) {
  this_core_checked().spawn(std::move(fn));
}

void RealRuntime::spawn_on(CoreId core, std::string_view, Task fn) {
  DOPPEL_ASSERT(core < cores_.size());
  Core* me = Core::current();
  if (me != nullptr && me->id() == core) {
    me->spawn(std::move(fn));
    return;
  }
  cores_[core]->send(me ? me->id() : Core::kExternal,
                     Message{Message::Kind::spawn, new Task(std::move(fn))});
}

void RealRuntime::post(CoreId core, Task fn) {
  DOPPEL_ASSERT(core < cores_.size());
  Core* me = Core::current();
  cores_[core]->send(me ? me->id() : Core::kExternal,
                     Message{Message::Kind::post, new Task(std::move(fn))});
}

Wake RealRuntime::park(Waiter& w, Instant deadline) {
  return this_core_checked().park(w, deadline);
}

FileSystem& RealRuntime::fs() {
  return *fs_;
}

void RealRuntime::record(const Event& event) {
  if (!options_.log_events) return;
  if (severity_rank(event.severity()) < severity_rank(options_.log_level)) return;
  const std::string line =
      format_log_line(event, clock_ns(CLOCK_REALTIME), this_core(), options_.log_format);
  // One write per line: lines from several cores never interleave mid-line.
  (void)std::fwrite(line.data(), 1, line.size(), stderr);
}

Result<std::unique_ptr<Listener>> RealRuntime::listen(const Endpoint& at, ListenOptions options) {
  std::shared_ptr<TlsContext> tls;
  if (options.tls) {
    auto context = tls_server_context(*options.tls);
    if (!context) return context.error();
    tls = std::move(*context);
  }
  auto l = real_listen(this_core_checked(), at, options);
  if (!l || !tls) return l;
  return tls_listener(*this, std::move(tls), std::move(*l));
}

Result<std::unique_ptr<Stream>> RealRuntime::connect_with(const Endpoint& to, Duration timeout,
                                                          const ConnectOptions& options) {
  if (!options.tls) return connect(to, timeout);
  auto context = tls_client_context(*options.tls);
  if (!context) return context.error();
  const Instant deadline = deadline_after(now(), timeout);
  auto s = connect(to, timeout);
  if (!s) return s;
  const std::string& name = options.tls->server_name.empty() ? to.host : options.tls->server_name;
  auto secured = tls_connected(*this, std::move(*context), std::move(*s), name, deadline);
  if (!secured) {
    return make_error(secured.code(), "connect to " + to.to_string() + ": " + secured.error().what);
  }
  return secured;
}

Result<std::unique_ptr<Stream>> RealRuntime::connect(const Endpoint& to, Duration timeout) {
  return real_connect(this_core_checked(), to, timeout);
}

}  // namespace doppel::real
