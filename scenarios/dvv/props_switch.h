#pragma once
// Bucket property changes in the middle of a DVV run, and what the oracle
// must know about them at every moment.
//
// Every switch_ms of the fault phase the bucket's allow_mult flips (through
// one node; props spread by push and gossip), and the switch waits until
// every node reports the new value before the next one; once the quiet phase
// begins, the scenario's value (true) comes back the same way, before the
// final checks. From what the driver has sent and seen it knows, for any
// stretch of time:
//   - whether last write wins may have applied somewhere: from the moment a
//     switch to false is sent until every node has reported true again
//     (a node acts on props only once it saved them, so none goes back after
//     a crash: props_table.h). An operation that overlapped such a time is
//     "exposed" (causal_oracle.h: what last write wins may drop);
//   - whether allow_mult was surely false everywhere: from the moment every
//     node reported false until a switch to true is sent. A read that began
//     and ended inside such a time must answer at most one value (property
//     allow-mult-respected: Riak resolves siblings by last write wins when
//     allow_mult is false; they may come back only with allow_mult true).
//
// The clock kind is not switched: the store keeps an object of one kind and
// hides (and replaces) one of the other kind (replica_store.h, merge()), so a
// switch forgets the values written before it, and a switch back can show a
// replica's stale object again. That is no causal history an oracle can hold
// a store to; a store that converted objects could be.

#include <cstdint>
#include <functional>

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

  // `allow_mult`: the bucket's value on every node now.
  PropsSwitch(Runtime& rt, std::uint32_t nodes, std::string bucket, bool allow_mult,
              ClientOf client_of)
      : rt_(rt),
        nodes_(nodes),
        bucket_(std::move(bucket)),
        client_of_(std::move(client_of)),
        allow_mult_(allow_mult),
        lww_open_(!allow_mult),
        one_value_(!allow_mult) {}

  Mark mark() const { return Mark{lww_epoch_, lww_open_, one_value_epoch_, one_value_}; }
  // Last write wins may have applied at some time since `m`.
  bool exposed_since(const Mark& m) const {
    return m.lww_open || lww_open_ || lww_epoch_ != m.lww_epoch;
  }
  // allow_mult was false on every node all the time since `m`.
  bool one_value_since(const Mark& m) const {
    return m.one_value && one_value_ && one_value_epoch_ == m.one_value_epoch;
  }

  // Flips allow_mult every `every` until `quiet()` turns true, then puts back true.
  // (Only from allow_mult true: the driver refuses switches otherwise.)
  void run(Duration every, const std::function<bool()>& quiet);
  bool done() const { return done_; }
  std::uint64_t switches() const { return switches_; }

 private:
  // Sends allow_mult = `value` until a node applies it, then waits until every node reports it.
  void switch_to(bool value);

  Runtime& rt_;
  std::uint32_t nodes_;
  std::string bucket_;
  ClientOf client_of_;
  bool allow_mult_;
  bool lww_open_;
  bool one_value_;
  std::uint64_t lww_epoch_ = 0, one_value_epoch_ = 0, switches_ = 0;
  bool done_ = false;
};

}  // namespace doppel::scenarios
