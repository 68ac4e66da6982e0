#include "runtime/real/core.h"

#include <pthread.h>
#include <sched.h>
#include <sys/random.h>
#include <time.h>

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <cstdio>
#include <exception>

#include "runtime/real/real_runtime.h"

namespace doppel::real {
namespace {

thread_local Core* g_core = nullptr;

// FIFO among ready fibers. The reactor is polled (without waiting) on the
// dispatcher's turn, which comes once per round of the ready queue, and
// waited on when nothing is ready. Polling only from the dispatcher matters:
// a poll may wake any parked fiber, and the one being suspended right now
// must not be handed back to the scheduler before its switch completes.
class CoreScheduler final : public boost::fibers::algo::algorithm {
 public:
  explicit CoreScheduler(Core& core) : core_(core) {}
  void awakened(boost::fibers::context* ctx) noexcept override { ready_.push_back(ctx); }
  boost::fibers::context* pick_next() noexcept override {
    if (boost::fibers::context::active()->is_context(boost::fibers::type::dispatcher_context)) {
      core_.on_dispatch([this] { return !ready_.empty(); });
    }
    if (ready_.empty()) return nullptr;
    boost::fibers::context* ctx = ready_.front();
    ready_.pop_front();
    return ctx;
  }
  bool has_ready_fibers() const noexcept override { return !ready_.empty(); }
  void suspend_until(std::chrono::steady_clock::time_point const&) noexcept override {
    core_.idle();
  }
  void notify() noexcept override { core_.reactor().wake(); }

 private:
  Core& core_;
  std::deque<boost::fibers::context*> ready_;
};

}  // namespace

Instant monotonic_now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return instant_ns(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}

Core* Core::current() {
  return g_core;
}

Runtime& Core::runtime() {
  return rt_;
}

Core::Core(RealRuntime& rt, CoreId id, CoreId core_count) : rt_(rt), id_(id) {
  for (CoreId i = 0; i < core_count; ++i) {
    inboxes_.push_back(std::make_unique<SpscQueue<Message>>(kInboxSlots));
  }
  std::uint64_t seed = 0;
  if (::getrandom(&seed, sizeof seed, 0) != sizeof seed)
    seed = static_cast<std::uint64_t>(to_ns(monotonic_now()));
  rng_.reseed(seed ^ id);
}

Core::~Core() {
  DOPPEL_ASSERT(!thread_.joinable());
  Message m;
  for (auto& q : inboxes_) {
    while (q->pop(m)) delete m.task;
  }
  for (Message& e : external_) delete e.task;
}

Status Core::start(bool pin, const std::string& backend) {
  std::promise<Status> started;
  auto ready = started.get_future();
  thread_ = std::thread([this, pin, &started, backend] { run(pin, &started, backend); });
  Status s = ready.get();
  if (!s) thread_.join();
  return s;
}

void Core::join() {
  if (thread_.joinable()) thread_.join();
}

void Core::run(bool pin, std::promise<Status>* started, const std::string& backend) {
  g_core = this;
  if (backend == "uring") {
    std::string why;
    reactor_ = make_uring_reactor(*this, &why);
    if (!reactor_) {
      started->set_value(make_error(Errc::unsupported, "io_uring: " + why));
      g_core = nullptr;
      return;
    }
  } else {
    reactor_ = make_epoll_reactor(*this);
  }
  if (pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(id_, &set);
    if (::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) != 0) {
      started->set_value(
          make_error(Errc::invalid_argument,
                     "cannot pin core " + std::to_string(id_) + " (fewer CPUs? try --no-pin)"));
      reactor_.reset();
      g_core = nullptr;
      return;
    }
  }
  boost::fibers::use_scheduling_algorithm<CoreScheduler>(*this);
  started->set_value(Status{});
  // The main context waits for the stop request, then for every fiber.
  while (!stop_requested_) wait_main();
  stopping_ = true;
  cancel_parked();
  while (live_fibers_ > 0) wait_main();
  drain_inboxes();  // tasks that arrived late are dropped (their promises break)
  // The reactor lives on until ~Core: Boost's scheduler still calls notify()
  // while it shuts down, after this function returns.
}

void Core::wait_main() {
  main_fiber_ = boost::fibers::context::active();
  static_cast<boost::fibers::context*>(main_fiber_)->suspend();
  main_fiber_ = nullptr;
}

void Core::wake_main() {
  if (main_fiber_ == nullptr) return;
  auto* main = static_cast<boost::fibers::context*>(main_fiber_);
  main_fiber_ = nullptr;
  boost::fibers::context::active()->schedule(main);
}

void Core::spawn(Task fn) {
  DOPPEL_ASSERT_MSG(g_core == this, "spawn from another thread");
  if (stopping_) return;
  DOPPEL_ASSERT_MSG(live_fibers_ < kFibersMax, "too many fibers on one core");
  ++live_fibers_;
  boost::fibers::fiber f(std::allocator_arg, stacks_,
                         [this, fn = std::move(fn)]() mutable { fiber_body(fn); });
  f.detach();
}

void Core::fiber_body(Task& fn) {
  try {
    fn();
  } catch (const Cancelled&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "doppel: core %u: a fiber died of an uncaught exception: %s\n", id_,
                 e.what());
    std::abort();
  }
  fn = Task();
  --live_fibers_;
  if (stopping_ && live_fibers_ == 0) wake_main();
}

Wake Core::park(Waiter& w, Instant deadline) {
  DOPPEL_ASSERT_MSG(g_core == this, "park on another core's runtime");
  auto* me = boost::fibers::context::active();
  DOPPEL_ASSERT_MSG(!me->is_context(boost::fibers::type::main_context), "park() outside a fiber");
  if (stopping_) {
    w.unlink();
    if (std::uncaught_exceptions() == 0) throw Cancelled{};
    return Wake::timed_out;
  }
  w.fiber = me;
  w.state = Waiter::State::parked;
  w.registry_prev = nullptr;
  w.registry_next = parked_;
  if (parked_ != nullptr) parked_->registry_prev = &w;
  parked_ = &w;
  if (deadline != kNever) w.timer = timers_.add(deadline, &w);
  me->suspend();
  if (w.registry_prev != nullptr) {
    w.registry_prev->registry_next = w.registry_next;
  } else {
    parked_ = w.registry_next;
  }
  if (w.registry_next != nullptr) w.registry_next->registry_prev = w.registry_prev;
  if (w.timer != 0) timers_.cancel(w.timer);
  w.timer = 0;
  const Waiter::State state = w.state;
  w.state = Waiter::State::idle;
  if (state == Waiter::State::notified) return Wake::notified;
  if (state == Waiter::State::cancelled && std::uncaught_exceptions() == 0) throw Cancelled{};
  return Wake::timed_out;
}

void Core::park_raw(Waiter& w) {
  auto* me = boost::fibers::context::active();
  w.fiber = me;
  w.state = Waiter::State::parked;
  me->suspend();
  w.state = Waiter::State::idle;
}

void Core::cancel_parked() {
  reactor_->cancel_all();
  for (Waiter* w = parked_; w != nullptr; w = w->registry_next) {
    if (w->state != Waiter::State::parked) continue;
    w->state = Waiter::State::cancelled;
    w->unlink();
    boost::fibers::context::active()->schedule(static_cast<boost::fibers::context*>(w->fiber));
  }
}

Instant Core::expire_timers() {
  const Instant now = monotonic_now();
  while (Waiter* w = timers_.pop_expired(now)) {
    w->timer = 0;
    if (w->state != Waiter::State::parked) continue;
    w->state = Waiter::State::timed_out;
    w->unlink();
    boost::fibers::context::active()->schedule(static_cast<boost::fibers::context*>(w->fiber));
  }
  return now;
}

void Core::send(CoreId from, Message m) {
  if (from == kExternal) {
    {
      std::lock_guard<std::mutex> lock(external_mutex_);
      external_.push_back(m);
    }
    has_external_.store(true, std::memory_order_seq_cst);
    reactor_->wake();
    return;
  }
  SpscQueue<Message>& q = *inboxes_[from];
  while (!q.push(m)) {
    // Full: the receiver is behind. Let our own core make progress (it may
    // be the one the receiver waits on) and try again.
    Core* me = g_core;
    if (me != nullptr) me->drain_inboxes();
    if (sleeping_.exchange(false, std::memory_order_seq_cst)) reactor_->wake();
    if (me != nullptr &&
        !boost::fibers::context::active()->is_context(boost::fibers::type::dispatcher_context)) {
      boost::this_fiber::yield();
    } else {
      std::this_thread::yield();
    }
  }
  // The push is a release store and sleeping_ another location: without a full fence the load
  // may be served before the store is visible (x86 reorders a store with a later load), the
  // receiver then finds its inbox empty and sleeps, and this read sees it awake: a lost
  // wake-up (a call_on result missing for seconds on uring, seen in the contract test). The
  // fence pairs with the one in idle().
  //
  // One doorbell per sleep: the sender that finds the receiver asleep clears the flag as it
  // rings, so the messages that follow before the receiver wakes (other connections' forwards
  // in the same round) do not write the eventfd again -- that wake-up drains them all. A
  // 2-core KV server rang about four times per wake-up before.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping_.exchange(false, std::memory_order_seq_cst)) reactor_->wake();
}

void Core::request_stop() {
  send(kExternal, Message{Message::Kind::stop, nullptr});
}

bool Core::inboxes_empty() const {
  for (const auto& q : inboxes_) {
    if (!q->empty()) return false;
  }
  return !has_external_.load(std::memory_order_seq_cst);
}

void Core::drain_inboxes() {
  Message m;
  for (auto& q : inboxes_) {
    // A batch at a time, so one busy sender cannot starve the others.
    for (int i = 0; i < 256 && q->pop(m); ++i) handle(m);
  }
  if (has_external_.load(std::memory_order_acquire)) {
    std::deque<Message> batch;
    {
      std::lock_guard<std::mutex> lock(external_mutex_);
      batch.swap(external_);
      has_external_.store(false, std::memory_order_seq_cst);
    }
    for (Message& e : batch) handle(e);
  }
}

void Core::handle(Message m) {
  std::unique_ptr<Task> task(m.task);
  switch (m.kind) {
    case Message::Kind::spawn:
      if (!stopping_) spawn(std::move(*task));
      return;
    case Message::Kind::post:
      if (!stopping_) (*task)();
      return;
    case Message::Kind::stop:
      stop_requested_ = true;
      wake_main();
      return;
  }
}

void Core::on_dispatch(const std::function<bool()>& others_ready) {
  drain_inboxes();
  const Instant now = expire_timers();
  // With nothing to run, idle() comes next and polls the reactor itself (with a timeout):
  // a poll here too would be a system call for nothing, once per request on a light load.
  if (others_ready() && now - last_poll_ >= kBusyPollInterval) {
    last_poll_ = now;
    reactor_->poll(0);
  }
}

void Core::idle() {
  // No spinning before sleeping: waiting awake 20 us after a cross-core send halved the
  // eventfd writes of a 2-core KV server but cost 15 % of its operations per CPU-second (and
  // 100 us, 30 %) on a 2-vCPU machine shared with its clients (doppel bench kv).
  sleeping_.store(true, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the one in send()
  if (!inboxes_empty()) {
    sleeping_.store(false, std::memory_order_seq_cst);
    drain_inboxes();
    expire_timers();
    return;
  }
  const Instant next = timers_.next();
  std::int64_t timeout = -1;
  if (next != kNever) timeout = std::max<std::int64_t>(0, to_ns(next) - to_ns(monotonic_now()));
  reactor_->poll(timeout);
  sleeping_.store(false, std::memory_order_seq_cst);
  drain_inboxes();
  last_poll_ = expire_timers();
}

}  // namespace doppel::real
