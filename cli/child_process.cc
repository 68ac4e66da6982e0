#include "cli/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

namespace doppel::cli {

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "doppel";
}

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool loopback_listening(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string log_tail(const std::string& path) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
  const auto nl = all.rfind('\n');
  std::string last = nl == std::string::npos ? all : all.substr(nl + 1);
  return last.empty() ? "(no output)" : last;
}

Result<pid_t> spawn_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  if (argv.empty()) return make_error(Errc::invalid_argument, "no program to run");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return make_error(Errc::io_error, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);       // never outlive the bench
    if (::getppid() != parent) ::_exit(126);  // the parent died before the prctl
    const int out = ::open(options.log.c_str(),
                           O_WRONLY | O_CREAT | (options.append ? O_APPEND : O_TRUNC), 0644);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<std::string> copy = argv;
    std::vector<char*> args;
    for (auto& a : copy) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

Status await_listening(pid_t& pid, std::uint16_t port, const std::string& what,
                       const std::string& log, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (loopback_listening(port)) return {};
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return make_error(Errc::io_error, what + " exited at start: " + log_tail(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop_child(pid);
  return make_error(Errc::timed_out, what + " did not listen on port " + std::to_string(port) +
                                         ": " + log_tail(log));
}

void stop_child(pid_t& pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  const auto end = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < end) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = -1;
}

void stop_children(std::span<pid_t* const> pids, std::chrono::milliseconds grace) {
  for (pid_t* pid : pids) {
    if (*pid > 0) ::kill(*pid, SIGTERM);
  }
  for (pid_t* pid : pids) stop_child(*pid, grace);
}

Result<Finished> run_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto pid = spawn_child(argv, options);
  if (!pid) return pid.error();
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0) {
    if (errno != EINTR)
      return make_error(Errc::io_error, std::string("waitpid: ") + std::strerror(errno));
  }
  Finished f;
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return f;
}

}  // namespace doppel::cli
