#pragma once
// The network a real run makes for itself (doppel real run): one network namespace per
// member (each server node, then the clients), each joined by a veth pair to a bridge in a
// hub namespace of the run's own. Member i is 10.77.0.<i+1>; nothing of the run touches the
// machine's own namespace, so the addresses cannot meet anything else.
//
// Faults are made with real mechanisms: a cut link (packets from a to b lost) is an nftables
// rule in b's namespace dropping what comes from a's address; a reset rejects every TCP
// segment a node receives with a reset, for a moment, so that every connection it has
// breaks. Everything the lab made is removed by its destructor, also after errors; the names
// ("doppel-<pid>-<member>", "doppel-<pid>-hub") let a later lab remove what a killed run
// left (the pid no longer alive).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runtime/result.h"

namespace doppel::cli {

class NetLab {
 public:
  static constexpr std::uint32_t kMembersMax = 64;

  // `members` namespaces; commands' output goes to `log`. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)
  // and the `ip` and `nft` commands: errors say which is missing.
  static Result<std::unique_ptr<NetLab>> create(std::uint32_t members, std::string log);
  ~NetLab();
  NetLab(const NetLab&) = delete;
  NetLab& operator=(const NetLab&) = delete;

  std::string address(std::uint32_t member) const;
  // The prefix that runs a command inside the member's namespace.
  std::vector<std::string> inside(std::uint32_t member) const;

  // Makes the lost links exactly `cut` (pairs from -> to), rewriting the rules of every member
  // whose set changed.
  Status set_cut(const std::set<std::pair<std::uint32_t, std::uint32_t>>& cut);
  // Every TCP segment the member receives is answered with a reset (`on`), or not.
  Status set_resetting(std::uint32_t member, bool on);

  // Removes namespaces of earlier runs whose process is gone; how many.
  static int remove_orphans();

 private:
  NetLab(std::uint32_t members, std::string log);
  Status run(const std::vector<std::string>& argv) const;
  Status write_rules(std::uint32_t member) const;
  std::string ns(std::uint32_t member) const;
  std::string hub() const;

  std::uint32_t members_;
  std::string log_;
  pid_t owner_;
  std::vector<std::string> made_;  // namespaces, in creation order
  std::set<std::pair<std::uint32_t, std::uint32_t>> cut_;
  std::set<std::uint32_t> resetting_;
  std::set<std::uint32_t> unwritten_;  // members whose last rule write failed
};

}  // namespace doppel::cli
