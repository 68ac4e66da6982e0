#pragma once
// The operator of the dvv-membership scenario, doing what riak-admin's user
// does while the cluster serves: every [0, 2 x change_ms] of the fault phase
// it stages one change through a random node's admin API and commits it --
// a join of a configured node that is no member, a leave, or a replacement of
// a member by a node that is none -- keeping at least `members_min` valid
// members. A change whose answer is lost is in doubt; the operator reads the
// ring back before the next one (a committed change shows there). After the
// heal, settled() waits for every node to hold one settled ring and checks it
// (ring-settles): every partition owned by a valid member, no transition
// pending, no node holding a replica of a key it no longer serves (a node
// that left serves none).
//
// Machines come and go with the ring (the cluster's peers are configured,
// ring_state.h, but a spare is unplugged): the operator powers a spare on
// before it stages its join or replacement, and powers a node that left off
// once its own ring shows the leave settled and it holds no replica of a key
// it no longer serves (as a Riak node shuts down once its handoffs are done).
// Nodes it powered off are not asked in settled().

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/dvv/client/riak_client.h"
#include "components/dvv/store/ring_state.h"
#include "runtime/runtime.h"

namespace doppel::scenarios {

// A /admin/cluster answer, parsed: the owners, the members' statuses, the version and whether
// a transition is pending.
struct ClusterStatus {
  std::vector<doppel::dvv::NodeIndex> owners;
  std::vector<doppel::dvv::MemberStatus> members;
  std::uint64_t version = 0;
  bool pending = false;
};
Result<ClusterStatus> parse_cluster_status(std::string_view json);

class MembershipAdmin {
 public:
  using ClientOf = std::function<doppel::dvv::RiakClient&(std::uint32_t node)>;
  using Reached = std::function<void(std::string_view what)>;
  // The machines' power switches (sim::World's).
  struct Machines {
    std::function<bool(std::uint32_t node)> powered;
    std::function<void(std::uint32_t node)> power_on, power_off;
  };

  MembershipAdmin(Runtime& rt, std::uint32_t nodes, std::uint32_t members_min, Duration timeout,
                  ClientOf client_of, Reached reached, Machines machines);

  // Changes until `stop()` holds.
  void run(Duration mean_gap, const std::function<bool()>& stop);

  // The ring every node holds once it settled and every node that is no member gave its
  // replicas up (polled until `deadline`), or what keeps it from that.
  Result<ClusterStatus> settled(Instant deadline);

  std::uint32_t committed() const { return committed_; }
  std::uint32_t refused() const { return refused_; }

 private:
  // The ring as node `n` holds it.
  Result<ClusterStatus> status(std::uint32_t n);
  // Replicas node `n` holds of keys it no longer serves (its /stats).
  Result<std::uint64_t> unserved(std::uint32_t n);
  void change_once();
  // Powers off the nodes that left and gave up every replica they no longer serve.
  void retire_departed();
  std::vector<std::uint32_t> powered_nodes() const;

  Runtime& rt_;
  std::uint32_t nodes_;
  std::uint32_t members_min_;
  Duration timeout_;
  ClientOf client_of_;
  Reached reached_;
  Machines machines_;
  // Nodes staged to leave (or be replaced) since the operator last staged their join, with
  // the ring version it saw when it staged that: the ones it may power off once their own
  // ring, newer than that, shows them gone. Never one whose join may have been committed; and
  // never on an older ring of their own (a spare powered on and cut off before its join
  // arrived holds the first ring, in which it is no member either).
  std::map<std::uint32_t, std::uint64_t> departing_;
  std::uint32_t committed_ = 0;
  std::uint32_t refused_ = 0;
};

}  // namespace doppel::scenarios
