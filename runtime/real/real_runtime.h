#pragma once
// The real runtime: the runtime contract on one OS thread per core, each a
// Boost.Fiber scheduler over epoll or io_uring (see core.h). `doppel serve`
// boots one node on it through the same boot() the simulator calls.

#include <memory>
#include <string>
#include <vector>

#include "runtime/node.h"
#include "runtime/real/log_line.h"
#include "runtime/runtime.h"

namespace doppel::real {

class Core;

struct RealOptions {
  CoreId cores = 1;
  bool pin = true;                      // pin core i to CPU i
  std::string backend = "epoll";        // "epoll" or "uring"
  std::string data_dir = ".";           // the root of fs()
  bool log_events = true;               // record() writes structured log lines
  Severity log_level = Severity::info;  // those at or above it (event.h)
  LogFormat log_format = LogFormat::text;
};

class RealRuntime final : public Runtime, private Network {
 public:
  explicit RealRuntime(RealOptions options);
  ~RealRuntime() override;

  // Starts the cores. Errors: a bad data directory, pinning, no io_uring.
  Status start();
  // Runs fn in a fiber on `core` and blocks the calling (non-core) thread
  // until it returns. For boot, shutdown and tests.
  void run_blocking(CoreId core, Task fn);
  // Cancels every fiber on every core, waits for them, joins the threads.
  void stop();
  const std::string& backend_name() const { return backend_name_; }

  Instant now() override;
  WallTime wall_now() override;
  void sleep(Duration d) override;
  Prng& random() override;
  CoreId core_count() const override { return options_.cores; }
  CoreId this_core() override;
  void spawn(std::string_view name, Task fn) override;
  void spawn_on(CoreId core, std::string_view name, Task fn) override;
  void post(CoreId core, Task fn) override;
  Wake park(Waiter& w, Instant deadline) override;
  Network& net() override { return *this; }
  FileSystem& fs() override;
  bool buggify(const BuggifySite&) override { return false; }
  void sometimes(const SometimesSite&, bool) override {}
  void record(const Event& event) override;

  Result<std::unique_ptr<Listener>> listen(const Endpoint& at, ListenOptions options) override;
  Result<std::unique_ptr<Stream>> connect(const Endpoint& to, Duration timeout) override;
  // With TLS when options.tls is set (tls.h).
  Result<std::unique_ptr<Stream>> connect_with(const Endpoint& to, Duration timeout,
                                               const ConnectOptions& options) override;

  Core& core(CoreId id) { return *cores_[id]; }

 private:
  Core& this_core_checked();

  RealOptions options_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::unique_ptr<FileSystem> fs_;
  std::string backend_name_;
  bool started_ = false;
};

// Socket and file pieces shared by both backends (socket.cc, file_system.cc).
Result<std::unique_ptr<Listener>> real_listen(Core& core, const Endpoint& at,
                                              ListenOptions options);
Result<std::unique_ptr<Stream>> real_connect(Core& core, const Endpoint& to, Duration timeout);
std::unique_ptr<FileSystem> make_real_file_system(const std::string& root, Status* status);

}  // namespace doppel::real
