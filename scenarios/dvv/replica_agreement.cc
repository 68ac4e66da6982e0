#include "scenarios/dvv/replica_agreement.h"

namespace doppel::scenarios {

std::optional<ReplicaVerdict> check_replicas(
    Runtime& rt, const std::vector<doppel::dvv::NodeIndex>& primaries,
    const std::function<doppel::dvv::RiakClient&(std::uint32_t node)>& client_of,
    const std::string& bucket, const std::string& key, Duration timeout, ClockJudge* clocks,
    bool converge) {
  std::string first;
  for (std::size_t i = 0; i < primaries.size(); ++i) {
    http::ClientRequest debug;
    debug.target = "/debug/local/buckets/" + bucket + "/keys/" + key;
    auto resp = client_of(primaries[i]).raw(debug, rt.now() + timeout);
    const std::string local = resp ? std::to_string(resp->status) + " " + resp->body
                                   : "unreachable: " + resp.error().message();
    if (clocks != nullptr && resp && resp->status == 200) {
      // The replica's own clock, measured from its bytes, not from its "entries" line.
      if (auto beyond =
              clocks->judge(bucket, key, resp->headers.get("X-Riak-Vclock").value_or(""))) {
        return ReplicaVerdict{"clock-entries-bounded",
                              key + " on dvv" + std::to_string(primaries[i]) + ": " + *beyond};
      }
    }
    if (i == 0) {
      first = local;
    } else if (local != first && converge) {
      return ReplicaVerdict{"replicas-converge", key + ": dvv" + std::to_string(primaries[0]) +
                                                     " holds [" + first + "] but dvv" +
                                                     std::to_string(primaries[i]) + " holds [" +
                                                     local + "]"};
    }
  }
  return std::nullopt;
}

}  // namespace doppel::scenarios
