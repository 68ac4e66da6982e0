#include "cli/real_lab.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/child_process.h"
#include "runtime/assert.h"

namespace doppel::cli {
namespace {

constexpr const char* kPrefix = "doppel-";
constexpr const char* kSubnet = "10.77.0.";

bool on_path(const std::string& tool) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    if (::access((std::string(dir) + tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

NetLab::NetLab(std::uint32_t members, std::string log)
    : members_(members), log_(std::move(log)), owner_(::getpid()) {}

std::string NetLab::ns(std::uint32_t member) const {
  return kPrefix + std::to_string(owner_) + "-" + std::to_string(member);
}
std::string NetLab::hub() const {
  return kPrefix + std::to_string(owner_) + "-hub";
}

std::string NetLab::address(std::uint32_t member) const {
  DOPPEL_ASSERT(member < members_);
  return kSubnet + std::to_string(member + 1);
}

std::vector<std::string> NetLab::inside(std::uint32_t member) const {
  return {"ip", "netns", "exec", ns(member)};
}

Status NetLab::run(const std::vector<std::string>& argv) const {
  {
    // Each command goes into the log before its output: what the lab made, in order.
    std::string line = "$";
    for (const std::string& a : argv) line += " " + a;
    std::ofstream(log_, std::ios::app) << line << "\n";
  }
  ChildOptions o;
  o.log = log_;
  o.append = true;
  auto done = run_child(argv, o);
  if (!done) return done.error();
  if (done->exit_code != 0) {
    std::string line;
    for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
    return make_error(Errc::io_error, "'" + line + "' exited with " +
                                          std::to_string(done->exit_code) + ": " + log_tail(log_));
  }
  return {};
}

Result<std::unique_ptr<NetLab>> NetLab::create(std::uint32_t members, std::string log) {
  DOPPEL_ASSERT(members >= 1 && members <= kMembersMax);
  if (::geteuid() != 0) {
    return make_error(Errc::denied,
                      "a real run needs root: it makes network namespaces and nftables rules");
  }
  for (const char* tool : {"ip", "nft"}) {
    if (!on_path(tool)) {
      return make_error(Errc::not_found, std::string("no '") + tool +
                                             "' command: install iproute2 and nftables "
                                             "(scripts/setup.sh does)");
    }
  }
  remove_orphans();
  std::unique_ptr<NetLab> lab(new NetLab(members, std::move(log)));
  const std::string hub = lab->hub();
  if (Status s = lab->run({"ip", "netns", "add", hub}); !s) return s.error();
  lab->made_.push_back(hub);
  for (const auto& step : std::vector<std::vector<std::string>>{
           {"ip", "-n", hub, "link", "add", "br0", "type", "bridge"},
           {"ip", "-n", hub, "link", "set", "br0", "up"}}) {
    if (Status s = lab->run(step); !s) return s.error();
  }
  for (std::uint32_t m = 0; m < members; ++m) {
    const std::string ns = lab->ns(m);
    const std::string port = "p" + std::to_string(m);
    if (Status s = lab->run({"ip", "netns", "add", ns}); !s) return s.error();
    lab->made_.push_back(ns);
    for (const auto& step : std::vector<std::vector<std::string>>{
             {"ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port,
              "netns", hub},
             {"ip", "-n", ns, "addr", "add", lab->address(m) + "/24", "dev", "eth0"},
             {"ip", "-n", ns, "link", "set", "eth0", "up"},
             {"ip", "-n", ns, "link", "set", "lo", "up"},
             {"ip", "-n", hub, "link", "set", port, "master", "br0"},
             {"ip", "-n", hub, "link", "set", port, "up"}}) {
      if (Status s = lab->run(step); !s) return s.error();
    }
    if (Status s = lab->write_rules(m); !s) return s.error();
  }
  return lab;
}

NetLab::~NetLab() {
  // Members first: their veths go with them, then the hub and its bridge.
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    if (Status s = run({"ip", "netns", "del", *it}); !s) {
      std::fprintf(stderr, "doppel: could not remove network namespace %s: %s\n", it->c_str(),
                   s.error().what.c_str());
    }
  }
}

Status NetLab::write_rules(std::uint32_t member) const {
  // Replaces the member's table whole (nft -f is atomic): "add" then "delete" so the delete
  // never fails for a table not there yet.
  std::string rules =
      "add table inet doppel\ndelete table inet doppel\n"
      "table inet doppel {\n  chain input {\n"
      "    type filter hook input priority 0; policy accept;\n";
  std::string dropped;
  for (const auto& [from, to] : cut_) {
    if (to == member) dropped += (dropped.empty() ? "" : ", ") + address(from);
  }
  if (!dropped.empty()) rules += "    ip saddr { " + dropped + " } drop\n";
  if (resetting_.count(member) != 0) rules += "    meta l4proto tcp reject with tcp reset\n";
  rules += "  }\n}\n";
  const std::string file = log_ + ".rules-" + std::to_string(member);
  {
    std::ofstream out(file, std::ios::trunc);
    out << rules;
    if (!out) return make_error(Errc::io_error, file + ": " + std::strerror(errno));
  }
  std::vector<std::string> argv = inside(member);
  for (const char* a : {"nft", "-f"}) argv.emplace_back(a);
  argv.push_back(file);
  return run(argv);
}

Status NetLab::set_cut(const std::set<std::pair<std::uint32_t, std::uint32_t>>& cut) {
  std::set<std::uint32_t> touched = unwritten_;  // a write that failed is tried again
  using Links = std::set<std::pair<std::uint32_t, std::uint32_t>>;
  for (const Links* side : {static_cast<const Links*>(&cut_), &cut}) {
    for (const auto& link : *side) {
      DOPPEL_ASSERT(link.first < members_ && link.second < members_);
      if (cut_.count(link) != cut.count(link)) touched.insert(link.second);
    }
  }
  cut_ = cut;
  unwritten_.clear();
  Status first;
  for (std::uint32_t m : touched) {
    if (Status s = write_rules(m); !s) {
      unwritten_.insert(m);
      if (first) first = s;
    }
  }
  return first;
}

Status NetLab::set_resetting(std::uint32_t member, bool on) {
  DOPPEL_ASSERT(member < members_);
  if (on) {
    resetting_.insert(member);
  } else {
    resetting_.erase(member);
  }
  return write_rules(member);
}

int NetLab::remove_orphans() {
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kPrefix, 0) != 0) continue;
    const std::string rest = name.substr(std::strlen(kPrefix));
    const auto dash = rest.find('-');
    if (dash == std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(rest.substr(0, dash).c_str()));
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    // What still runs in it (a server left stopped when its run was killed) goes first.
    const std::filesystem::path pids = "/tmp/doppel-orphan-pids-" + std::to_string(::getpid());
    ChildOptions listing;
    listing.log = pids.string();
    if (auto listed = run_child({"ip", "netns", "pids", name}, listing); listed) {
      std::ifstream in(pids);
      for (long p = 0; in >> p;) {
        if (p > 1) ::kill(static_cast<pid_t>(p), SIGKILL);
      }
    }
    std::filesystem::remove(pids, ec);
    ChildOptions o;
    auto done = run_child({"ip", "netns", "del", name}, o);
    if (done && done->exit_code == 0) ++removed;
  }
  return removed;
}

}  // namespace doppel::cli
