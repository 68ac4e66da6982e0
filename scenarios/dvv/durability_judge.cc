#include "scenarios/dvv/durability_judge.h"

namespace doppel::scenarios {

DurabilityJudge::DurabilityJudge(sim::World& world, std::vector<sim::NodeId> servers,
                                 const properties::dvv::CausalOracle& oracle,
                                 const RingHistory& rings, Options options, Violated violated)
    : oracle_(oracle),
      rings_(rings),
      options_(std::move(options)),
      violated_(std::move(violated)),
      promises_(world, options_.n_val, std::move(servers)) {}

void DurabilityJudge::acked(const std::string& key, const std::string& value,
                            const doppel::dvv::Quorum& q, bool exposed,
                            RingHistory::Mark ring_mark) {
  // Last write wins may drop the value at birth (write_promises.h), and so may the client-id vv
  // baseline (a blind write whose client wrote before gets a clock it already has). A ring the
  // history could not read leaves the primaries unknown.
  if (exposed || !options_.dvvset || !rings_.complete()) {
    ++acks_unjudged_;
    return;
  }
  ++acks_judged_;
  const std::string broken = promises_.judge(
      oracle_, options_.bucket, key, value, q,
      rings_.primaries_since(ring_mark, rings_.partition_of(options_.bucket, key), options_.n_val));
  if (!broken.empty()) {
    violated_("pw-dw-durable", key + ": PUT of " + value.substr(0, 24) + " acknowledged with " +
                                   broken + " when the ack arrived");
  }
}

void DurabilityJudge::released(RingHistory::NodeIndex server, const std::string& key,
                               std::uint64_t ring) {
  // DVVSet clocks only: the vv baseline's lost updates drop values no replica keeps, and a clock
  // switch makes vv objects. The ring must be the one the release was decided under.
  if (!options_.dvvset || options_.clock_switch || !rings_.complete() ||
      rings_.held_version(server) != ring) {
    ++releases_unjudged_;
    return;
  }
  const std::set<doppel::dvv::NodeIndex> primaries =
      rings_.primaries_held(server, rings_.partition_of(options_.bucket, key), options_.n_val);
  const std::string who = "n" + std::to_string(server) + " released " + key;
  if (primaries.count(server) != 0) {
    violated_("handoff-before-release", who + " though its ring names it a primary");
    return;
  }
  const auto broken = promises_.judge_release(oracle_, server, options_.bucket, key, primaries);
  if (!broken) {
    ++releases_unjudged_;
    return;
  }
  ++releases_judged_;
  if (!broken->empty()) violated_("handoff-before-release", who + ": " + *broken);
}

}  // namespace doppel::scenarios
