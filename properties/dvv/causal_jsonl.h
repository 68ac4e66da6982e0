#pragma once
// Histories of a Riak-style store's clients, as JSONL, judged by the causal oracle
// (causal_oracle.h): what `doppel load dvv` records against a real cluster and
// `doppel check causal` reads. Jepsen's shape (history/jsonl.h), with reads that return
// siblings and writes that name what their writer had seen:
//
//   {"process":2,"type":"invoke","f":"get","key":"k7","time":100}
//   {"process":2,"type":"ok","f":"get","key":"k7","value":["a.1","a.9"],"time":900}
//   {"process":2,"type":"invoke","f":"put","key":"k7","value":"a.12","observed":["a.1","a.9"],
//    "time":950}
//   {"process":2,"type":"ok","f":"put","key":"k7","time":1800}
//
//   process  an integer (required)
//   type     "invoke" | "ok" | "fail" | "info" (required). ok: acknowledged (a get: answered).
//            fail: the store answered and refused; a write may still have reached some
//            replicas (Riak's 503), so it may appear but is never required to. info: no
//            answer. An invocation still pending at the end counts as info.
//   f        "get" | "put" | "delete" (required)
//   key      a string (required)
//   value    a get's ok: the siblings read, an array of strings ([] for none). A put's
//            invocation: the value written, a string no other write of the history uses. A
//            delete's invocation with "observed": the tombstone's name, unique like a put's
//            value; a delete without "observed" is blind (it deletes whatever its coordinator
//            finds) and names none. Completions of writes need none (one given must match).
//   observed a write invocation's: the siblings of the read whose context it sent ([] when
//            that read found none). A put without it is blind and supersedes nothing.
//   final    a get invocation's, true: every write of the key had ended and the replicas had
//            converged (after the heal, once handoffs settled) before it began, so it must
//            return every acknowledged value or one written knowing it
//   time     integer nanoseconds, not used by the checks
// Other members are skipped.
//
// What is judged, for each answered get: no sibling that no client wrote to the key
// (`unwritten`); no sibling beside one that superseded it (`false-sibling`: a clock that could
// not tell them apart; with DVVSet never, with the vv baseline a known cost). For each final
// get: no acknowledged value neither present nor in a present value's past (`lost`), and no
// value an acknowledged delete superseded (`resurrected`). A final get that a write of its key
// overlaps (acknowledged while it ran, or a blind delete pending when it began) is an error in
// the history, not a verdict.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "properties/dvv/causal_oracle.h"
#include "runtime/result.h"

namespace doppel::properties::dvv {

struct CausalFinding {
  std::string kind;        // "lost", "false-sibling", "unwritten", "resurrected"
  std::uint64_t line = 0;  // of the get's completion
  std::string key;
  std::string value;
};

struct CausalReport {
  static constexpr std::size_t kFindingsKept = 100;

  std::uint64_t operations = 0;  // completed or pending invocations
  std::uint64_t writes = 0;      // puts and deletes
  std::uint64_t acked = 0;
  std::uint64_t reads = 0;  // answered gets
  std::uint64_t final_reads = 0;
  std::uint64_t keys = 0;                       // keys written
  std::uint64_t keys_unjudged = 0;              // keys with an acknowledged write and no final read
  std::map<std::string, std::uint64_t> counts;  // findings by kind
  std::vector<CausalFinding> findings;          // the first kFindingsKept

  bool ok() const { return counts.empty(); }
};

// Reads a history line by line (in file order: a value must be invoked before a read returns
// it), judging each get as it completes.
class CausalCheck {
 public:
  static constexpr std::size_t kLineBytesMax = 1u << 20;
  static constexpr std::size_t kSiblingsMax = 4096;

  // One line (without its newline); blank lines are skipped. Errors say what is wrong with
  // it ("'value': expected an array of strings"); the caller names the line.
  Status line(std::string_view text);
  // The verdict; a pending invocation is taken as unanswered.
  CausalReport finish();

 private:
  struct Pending {
    std::string f, key, value;  // value: a write's (a tombstone's for a delete with context)
    std::vector<std::string> observed;
    bool final = false;
    std::uint64_t acks_before = 0;  // final gets: the key's acknowledged writes at invocation
    std::uint64_t line = 0;
  };
  Status invoke(std::int64_t process, Pending op);
  Status complete(std::int64_t process, const std::string& type, const std::string& f,
                  const std::vector<std::string>* siblings, const std::string* value);
  void judge(const Pending& op, const std::vector<std::string>& siblings);
  void found(const char* kind, const std::string& key, const std::string& value);
  void blind_delete_ended(const std::string& key, bool answered);

  CausalOracle oracle_;
  CausalReport report_;
  std::uint64_t line_ = 0;
  std::map<std::int64_t, Pending> pending_;    // by process
  std::set<std::string> values_;               // every value and tombstone named
  std::map<std::string, std::uint64_t> acks_;  // key -> acknowledged writes so far
  std::set<std::string> judged_keys_;          // keys read final
  std::map<std::string, int> blind_pending_;   // key -> blind deletes not yet ended
  std::set<std::string> blind_unanswered_;     // keys a blind delete may still reach
};

// The whole file, or the first error as "PATH:LINE: what".
Result<CausalReport> check_causal_file(const std::string& path);

// One line of the report per finding kind and per kept finding, for people.
std::string describe(const CausalReport& report);

}  // namespace doppel::properties::dvv
