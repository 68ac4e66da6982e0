#pragma once
// Other processes, for the benchmarks that compare doppel with other programs (memcached,
// restic, borg) or run doppel servers beside the load: start one, wait for its port, run one to
// completion, stop one by its pid. Loopback only.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "runtime/net.h"
#include "runtime/result.h"

namespace doppel::cli {

struct ChildOptions {
  std::string log = "/dev/null";                         // stdout and stderr go here
  bool append = false;                                   // after what it holds; else truncated
  std::string cwd;                                       // empty: ours
  std::vector<std::pair<std::string, std::string>> env;  // added to ours
};

// This binary's path, to start it again (a server beside its load).
std::string self_exe();
// A port on 127.0.0.1 that nothing listens on now.
std::uint16_t free_loopback_port();
// True if something accepts connections at 127.0.0.1:port.
bool loopback_listening(std::uint16_t port);
// The last line of a log, for an error message.
std::string log_tail(const std::string& path);

// Starts argv (searched in PATH); the child gets SIGTERM if we die.
Result<pid_t> spawn_child(const std::vector<std::string>& argv, const ChildOptions& options);
// Waits until the child listens on the port; an error (naming the log's last line) if it exits
// or the timeout passes, and then it is stopped.
Status await_listening(pid_t& pid, std::uint16_t port, const std::string& what,
                       const std::string& log,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
// SIGTERM, then SIGKILL after `grace`; reaps it; pid becomes -1.
void stop_child(pid_t& pid, std::chrono::milliseconds grace = std::chrono::seconds(10));
// The same for several at once: SIGTERM to all first, so that they stop side by side, then
// stop_child on each. Pids of -1 are skipped.
void stop_children(std::span<pid_t* const> pids,
                   std::chrono::milliseconds grace = std::chrono::seconds(10));

struct Finished {
  int exit_code = 0;  // 128 + signal if killed
  double seconds = 0;
};
// Runs argv to completion.
Result<Finished> run_child(const std::vector<std::string>& argv, const ChildOptions& options);

}  // namespace doppel::cli
