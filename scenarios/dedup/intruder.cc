#include "scenarios/dedup/intruder.h"

#include "scenarios/scenario_users.h"

namespace doppel::scenarios {

using dedup::VersionNumber;

dedup::DedupClient DedupIntruder::client(const std::string& authorization) const {
  dedup::DedupClientOptions o;
  o.request_timeout = std::chrono::milliseconds(w_.timeout_ms);
  o.transfer_io_timeout = std::chrono::milliseconds(w_.timeout_ms);
  o.admin_timeout = std::chrono::milliseconds(w_.timeout_ms * 4);
  o.authorization = authorization;
  return dedup::DedupClient(rt_, Endpoint{kDedupServer, kDedupPort}, o);
}

template <class T>
void DedupIntruder::judge(const dedup::DedupClient& c, const Result<T>& answer, int status,
                          const std::string& what) {
  if (answer.ok()) {
    reports_.violated("access-enforced",
                      what + " was not refused (HTTP " + std::to_string(c.last_status()) + ")");
    return;
  }
  const int got = c.last_status();  // 0: no answer (the network, a crash)
  if (got != 0 && got != status && got != 408 && got < 500) {
    reports_.violated("access-enforced", what + " answered HTTP " + std::to_string(got) + ", not " +
                                             std::to_string(status));
  }
}

void DedupIntruder::attempt() {
  Prng& rng = rt_.random();
  const auto image = static_cast<std::uint32_t>(rng.below(series_.options().images));
  const std::string name = series_.image_name(image);
  const auto removable = ledger_.removable(image);
  const auto live = ledger_.live(image);
  switch (rng.below(6)) {
    case 0: {
      dedup::DedupClient c = client("");
      reports_.reached("intrude-anonymous");
      judge(c, c.list_images(), 401, "a listing without credentials");
      break;
    }
    case 1: {
      if (removable.empty()) return;
      dedup::DedupClient c = client(authorization_of(kOwner, "not-the-password"));
      const VersionNumber v = removable[rng.below(removable.size())];
      reports_.reached("intrude-wrong-password");
      judge(c, c.remove(name, v), 401,
            "a remove of " + name + "@" + std::to_string(v) + " with a wrong password");
      break;
    }
    case 2: {
      if (removable.empty()) return;
      dedup::DedupClient c = client(authorization_of(kNightly));
      const VersionNumber v = removable[rng.below(removable.size())];
      reports_.reached("intrude-append-only-remove");
      judge(c, c.remove(name, v), 403,
            "the append-only user's remove of " + name + "@" + std::to_string(v));
      break;
    }
    case 3: {
      dedup::DedupClient c = client(authorization_of(kNightly));
      reports_.reached("intrude-append-only-gc");
      judge(c, c.gc(), 403, "the append-only user's gc");
      break;
    }
    case 4: {
      if (live.empty()) return;
      dedup::DedupClient c = client(authorization_of(kGuest));
      const VersionNumber v = live[rng.below(live.size())].first;
      reports_.reached("intrude-private-read");
      judge(c, c.head(name, v), 403, "the guest's read of " + name + "@" + std::to_string(v));
      break;
    }
    default: {
      dedup::DedupClient c = client(authorization_of(kGuest));
      reports_.reached("intrude-private-listing");
      auto listed = c.list_images();
      if (listed && !listed->empty()) {
        reports_.violated("access-enforced", "the guest's listing shows " +
                                                 std::to_string(listed->size()) +
                                                 " images of others, first " + (*listed)[0].name);
      }
      break;
    }
  }
}

}  // namespace doppel::scenarios
