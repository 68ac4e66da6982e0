#pragma once
// One core of the real runtime: an OS thread (pinned unless told not to)
// running its own Boost.Fiber scheduler, which sleeps in the reactor
// (epoll_wait or io_uring_wait_cqe) when no fiber is ready.
//
// Cores share nothing but their inboxes: a bounded lock-free SPSC queue from
// every other core, drained in batches. A sender writes the receiver's
// eventfd only when the receiver may be asleep (it says so in `sleeping_`
// before it blocks and checks its inboxes again after: a Dekker handshake,
// with a sequentially consistent fence on each side between its store and
// its load, so no wake-up is lost).

#include <atomic>
#include <boost/fiber/pooled_fixedsize_stack.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/real/reactor.h"
#include "runtime/real/spsc_queue.h"
#include "runtime/real/timer_heap.h"
#include "runtime/runtime.h"

namespace doppel::real {

class RealRuntime;

struct Message {
  enum class Kind : std::uint8_t { spawn, post, stop } kind = Kind::post;
  Task* task = nullptr;  // owned by the message until handled
};

class Core {
 public:
  static constexpr std::size_t kInboxSlots = 4096;
  static constexpr std::size_t kFiberStackBytes = 128u << 10;
  static constexpr std::uint64_t kFibersMax = 1'000'000;
  // While fibers are ready, the reactor is polled at most this often: a poll per round of the
  // ready queue found about one event each (1.3 epoll_wait per request on a 2-core KV server;
  // 0.7 with 50 us, and the same throughput and p99 at 1 and 2 cores; doppel bench kv).
  static constexpr Duration kBusyPollInterval = std::chrono::microseconds(50);

  Core(RealRuntime& rt, CoreId id, CoreId core_count);
  ~Core();

  // The core the calling thread runs, or nullptr for other threads.
  static Core* current();

  Status start(bool pin, const std::string& backend);  // launches the thread
  void join();

  // --- from this core's own fibers
  void spawn(Task fn);
  Wake park(Waiter& w, Instant deadline);
  // Parks until unpark(w), ignoring stop: for waits the kernel must finish
  // (it owns a buffer on our stack). The reactor cancels them at stop.
  void park_raw(Waiter& w);
  Prng& rng() { return rng_; }
  Reactor& reactor() { return *reactor_; }
  Runtime& runtime();  // the node's runtime, for waiting on WaitLists
  CoreId id() const { return id_; }
  bool stopping() const { return stopping_; }

  // --- from any thread
  // From core `from` (its SPSC queue) or, with from == kExternal, from any
  // other thread (a mutex-protected queue: rare paths only).
  static constexpr CoreId kExternal = 0xffffffffu;
  void send(CoreId from, Message m);
  void request_stop();

  // --- for the scheduling algorithm
  // The dispatcher's turn: the inboxes, the timers, and a poll without waiting if fibers are
  // ready (otherwise idle() polls).
  void on_dispatch(const std::function<bool()>& others_ready);
  void idle();  // nothing to run: sleep in the reactor
  std::string_view backend_name() const { return reactor_ ? reactor_->name() : "none"; }

 private:
  void run(bool pin, std::promise<Status>* started, const std::string& backend);
  void drain_inboxes();
  void handle(Message m);
  Instant expire_timers();  // returns the time it read
  void cancel_parked();
  void fiber_body(Task& fn);
  void wait_main();
  void wake_main();
  bool inboxes_empty() const;

  RealRuntime& rt_;
  const CoreId id_;
  std::vector<std::unique_ptr<SpscQueue<Message>>> inboxes_;  // [from]
  std::mutex external_mutex_;
  std::deque<Message> external_;
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> has_external_{false};
  std::thread thread_;
  std::unique_ptr<Reactor> reactor_;
  TimerHeap timers_;
  Prng rng_;
  boost::fibers::pooled_fixedsize_stack stacks_{kFiberStackBytes};
  Instant last_poll_{};
  Waiter* parked_ = nullptr;  // registry of parked waiters (for stop)
  std::uint64_t live_fibers_ = 0;
  bool stop_requested_ = false;
  bool stopping_ = false;
  void* main_fiber_ = nullptr;  // the thread's main context while it waits
};

}  // namespace doppel::real
