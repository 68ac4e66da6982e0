#pragma once
// The register oracle of the DVV scenarios, over the causal history
// (causal_history.h) of values named by unique strings. A client that GETs
// siblings S and then PUTs v with the GET's context has made v supersede every
// value of S (and, transitively, what they superseded); a blind PUT supersedes
// nothing. So:
//   - a sibling kept beside another sibling that superseded it is a false
//     conflict (a clock that could not tell them apart);
//   - an acknowledged value that is neither among the final siblings nor in
//     the past of one of them was lost.
// A sibling no client wrote is reported too: a store must never invent values.
//
// Deletes are writes of tombstones (which reads never return): a DELETE with
// the context of a read supersedes that read's siblings, and once it was
// acknowledged none of them may come back (a tombstone reaped too early, a
// stale replica's copy handed back). A DELETE without a context deletes
// whatever the coordinator found: any value written before it completed may
// be gone, so those are not counted lost -- and an unanswered one may still
// be applied later, so its key's losses are not judged at all.
//
// Last write wins (a bucket's allow_mult false, for a while): a coordinator
// that keeps one value of its object and the write it takes drops the others
// -- each concurrent with the one it keeps (a value it would supersede is not
// dropped, it is overwritten). So an acknowledged value that is gone is not
// lost if it is concurrent with a value of its key written while last write
// wins may have applied ("exposed": its write, or the read whose context it
// sent, overlapped a time when allow_mult may have been false on some node)
// and begun before that one ended (the dropping happens at its coordinator,
// where the dropped value must already be), or if it was exposed itself and
// is concurrent with a value of its key begun before it ended. Those are
// counted apart (Verdict::lww_dropped); everything else is judged as above.
//
// The vv baseline (a bucket's clock switched to "vv" for a while) drops a
// write whole: a PUT whose clock the stored one already holds leaves the
// stored object as it was. That happens under the same condition (exposed,
// a concurrent value already at the coordinator: the client's own earlier
// write its context did not include), but a tombstone dropped whole deleted
// nothing, so what it superseded may still be there. An exposed write marked
// `whole` excuses that too; under last write wins the tombstone's clock
// supersedes what it saw even when its value loses, so nothing is excused.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "properties/dvv/causal_history.h"

namespace doppel::properties::dvv {

class CausalOracle {
 public:
  static constexpr std::size_t kValuesMax = 1u << 20;

  void wrote(const std::string& key, const std::string& value,
             const std::vector<std::string>& observed, bool tombstone = false);
  // A DELETE without a context of `key` ended: answered (acknowledged or refused), or not.
  void blind_delete(const std::string& key, bool answered);
  void acked(const std::string& key, const std::string& value);
  // The write of `value` was exposed to last write wins (see above) and ended now (`ended`
  // false: it may still be coordinated, its end is unknown); `whole`: to the vv baseline,
  // which may drop the write whole.
  void lww_exposed(const std::string& key, const std::string& value, bool ended,
                   bool whole = false);
  // A client wrote `value` to `key` (a value or a tombstone).
  bool written(const std::string& key, const std::string& value) const;
  // a is in b's causal past: b was written knowing a.
  bool superseded_by(const std::string& a, const std::string& b) const;

  struct Verdict {
    std::vector<std::string> lost;            // acknowledged, neither present nor superseded
    std::vector<std::string> false_siblings;  // present beside a value that superseded them
    std::vector<std::string> unwritten;       // present, and no client wrote it for this key
    std::vector<std::string> resurrected;     // present, and an acknowledged delete superseded it
    std::vector<std::string> lww_dropped;     // acknowledged, gone, last write wins may drop it
  };
  Verdict judge(const std::string& key, const std::vector<std::string>& siblings) const;
  // Siblings of one answer that another of them superseded.
  std::size_t false_conflicts(const std::vector<std::string>& siblings) const;

  std::uint64_t writes() const { return history_.size(); }
  std::vector<std::string> keys() const;

 private:
  ValueId id_of(const std::string& value) const;
  bool concurrent(const std::string& a, const std::string& b) const;
  // `a` may have been dropped by last write wins (see above).
  bool lww_may_drop(const std::string& key, const std::string& a) const;

  CausalHistory history_;
  std::map<std::string, ValueId> ids_;
  std::map<std::string, std::set<std::string>> acked_;       // key -> acknowledged values
  std::map<std::string, std::set<std::string>> written_;     // key -> every value written
  std::map<std::string, std::set<std::string>> tombstones_;  // key -> deletes with a context
  // key -> values with ids up to this may have been deleted by a DELETE without a context.
  std::map<std::string, ValueId> blindly_deleted_up_to_;
  // key -> exposed write -> the values begun before it ended have ids up to this.
  std::map<std::string, std::map<std::string, ValueId>> lww_exposed_;
  std::map<std::string, std::set<std::string>> exposed_whole_;  // key -> writes marked `whole`
};

}  // namespace doppel::properties::dvv
