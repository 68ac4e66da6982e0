#pragma once
// Bucket property changes in the middle of a DVV run, and what the oracle
// must know about them at every moment.
//
// One property switches: allow_mult (true <-> false) or the clock kind
// (dvvset <-> vv). Every `every` of the fault phase it flips (through one
// node; props spread by push and gossip), and the switch waits until every
// node reports the new value before the next one; once the quiet phase
// begins, the scenario's value (allow_mult true, clock dvvset: the "exact"
// value) comes back the same way, before the final checks. From what the
// driver has sent and seen it knows, for any stretch of time:
//   - whether the inexact value may have applied somewhere: from the moment a
//     switch away from the exact value is sent until every node has reported
//     it again (a node acts on props only once it saved them, so none goes
//     back after a crash: props_table.h). An operation that overlapped such a
//     time is "exposed" (causal_oracle.h: what last write wins may drop; the
//     vv baseline drops a write whose clock the stored one already holds,
//     the same way);
//   - (allow_mult only) whether allow_mult was surely false everywhere: from
//     the moment every node reported false until a switch to true is sent. A
//     read that began and ended inside such a time must answer at most one
//     value (property allow-mult-respected: Riak resolves siblings by last
//     write wins when allow_mult is false; they may come back only with
//     allow_mult true).
//
// A clock switch converts objects where the store meets them
// (components/dvv/clock/clock_conversion.h): no value is lost, but a value a
// vv clock kept beside a newer one stays a sibling in the DVVSet, so a run
// with clock switches cannot hold the store to no-false-conflicts, nor to
// DVVSet's n_val bound on clock entries (converted client ids stay entries).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "components/dvv/client/riak_client.h"
#include "runtime/runtime.h"

namespace doppel::scenarios {

class PropsSwitch {
 public:
  // When an operation began, for the questions below.
  struct Mark {
    std::uint64_t lww_epoch = 0;
    bool lww_open = false;
    std::uint64_t one_value_epoch = 0;
    bool one_value = false;
  };
  using ClientOf = std::function<doppel::dvv::RiakClient&(std::uint32_t node)>;
  enum class Prop : std::uint8_t { allow_mult, clock };

  // `exact`: the bucket has the exact value (allow_mult true, clock dvvset) on every node now.
  PropsSwitch(Runtime& rt, std::uint32_t nodes, std::string bucket, Prop prop, bool exact,
              ClientOf client_of)
      : rt_(rt),
        nodes_(nodes),
        bucket_(std::move(bucket)),
        prop_(prop),
        client_of_(std::move(client_of)),
        exact_(exact),
        lww_open_(!exact),
        one_value_(prop == Prop::allow_mult && !exact) {}

  Mark mark() const { return Mark{lww_epoch_, lww_open_, one_value_epoch_, one_value_}; }
  // Last write wins may have applied at some time since `m`.
  bool exposed_since(const Mark& m) const {
    return m.lww_open || lww_open_ || lww_epoch_ != m.lww_epoch;
  }
  // allow_mult was false on every node all the time since `m`.
  bool one_value_since(const Mark& m) const {
    return m.one_value && one_value_ && one_value_epoch_ == m.one_value_epoch;
  }

  // Flips the property every `every` until `quiet()` turns true, then puts back the exact
  // value. (Only from the exact value: the driver refuses switches otherwise.)
  void run(Duration every, const std::function<bool()>& quiet);
  bool done() const { return done_; }
  std::uint64_t switches() const { return switches_; }
  // The inexact value may drop a write whole (the vv baseline), not only lose its value to a
  // concurrent one (last write wins): causal_oracle.h.
  bool drops_whole() const { return prop_ == Prop::clock; }
  std::string_view prop_name() const { return prop_ == Prop::allow_mult ? "allow_mult" : "clock"; }

  // Sets `update` through one node after another until one applies it, each attempt
  // conditional on the props' version the node just reported (If-Match): an attempt whose
  // answer was lost (a timeout, a reset) may still land later, but never after a newer change,
  // which it would undo (dvv-clock-switch seed 377: an early-timed-out switch to vv was applied
  // after the switch back to dvvset had reached every node, and won).
  static void set_props(Runtime& rt, std::uint32_t nodes, const std::string& bucket,
                        const doppel::dvv::BucketPropsUpdate& update, const ClientOf& client_of);
  // Until every node reports props holding `want` (a piece of their JSON) at one version (ETag).
  // The same value is not enough: a node's version counts its own changes, so a change made
  // where an older version was still current ties with one made elsewhere, and the tie goes to
  // one of them on every node, perhaps the older (dvv-allow-mult seed 5015: the switch back to
  // true, made at a node that reported false at version v while another had false at v+1, tied
  // at v+1 and lost everywhere). At one version everywhere, the next change is newer than all.
  static void settle(Runtime& rt, std::uint32_t nodes, const std::string& bucket,
                     std::string_view want, const ClientOf& client_of);

 private:
  // Sends the exact value (or the other) until a node applies it, then waits until every node
  // reports it.
  void switch_to(bool exact);

  Runtime& rt_;
  std::uint32_t nodes_;
  std::string bucket_;
  Prop prop_;
  ClientOf client_of_;
  bool exact_;
  bool lww_open_;
  bool one_value_;
  std::uint64_t lww_epoch_ = 0, one_value_epoch_ = 0, switches_ = 0;
  bool done_ = false;
};

}  // namespace doppel::scenarios
