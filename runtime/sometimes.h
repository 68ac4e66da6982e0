#pragma once
// Assertions that steer: facts a search should see hold somewhere in a swarm
// (Antithesis' "sometimes" assertions). A component places one where reaching
// a state tells a search it got somewhere interesting: a read answering more
// than two siblings, a compaction while a restore streams, a forwarded cas.
// They never change what the code does: the simulator counts every check and
// every time it held (coverage probes "sometimes-checked:<name>" and
// "sometimes-held:<name>"), the swarm lists each one that never held or was
// never reached, and a search can steer by them; the real runtime ignores them.
//
//   namespace {
//   const SometimesSite kManySiblings{"dvv.get.siblings_above_two",
//                                     "a read answers more than two siblings"};
//   }
//   sometimes(rt_, kManySiblings, siblings.size() > 2);
//   reachable(rt_, kHintReplayedHandedOff);  // sometimes(true): that this line runs
//
// Like BUGGIFY sites (buggify.h) they are objects at namespace scope,
// registered before main(), named component.area.what (checked when the code
// compiles) and unique in a binary.

#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/buggify.h"

namespace doppel {

class Runtime;

class SometimesSite {
 public:
  // `says` states in a few words what holding means.
  SometimesSite(SiteName name, std::string_view says);
  ~SometimesSite();
  SometimesSite(const SometimesSite&) = delete;
  SometimesSite& operator=(const SometimesSite&) = delete;

  std::string_view name() const { return name_; }
  // The first part of the name: "kv", "dvv", "dedup".
  std::string_view component() const { return name_.substr(0, name_.find('.')); }
  std::string_view says() const { return says_; }

 private:
  std::string_view name_;
  std::string_view says_;
  std::uint32_t index_;
};

// Every site this binary holds, ordered by name.
std::vector<const SometimesSite*> sometimes_sites();

// Notes whether `held` is true here, this time.
void sometimes(Runtime& rt, const SometimesSite& site, bool held);
// Notes that this line ran: the site holds the first time it is reached.
void reachable(Runtime& rt, const SometimesSite& site);

}  // namespace doppel
