#pragma once
// What a client asks of the store and what it gets back: the options of one
// GET, PUT or DELETE (the HTTP layer maps Riak's query parameters onto them)
// and the replies. The coordinator serves them (coordinator.h); a PUT that a
// node forwards to a primary carries them over the wire (messages.h).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "components/dvv/store/sibling.h"
#include "runtime/time.h"

namespace doppel::dvv {

struct RequestOptions {
  std::optional<std::uint32_t> r, w, dw, pr, pw;  // unset: the bucket's
  std::string client_id;                          // vv: X-Riak-ClientId
  Duration timeout{std::chrono::seconds(2)};
};

struct GetReply {
  bool found = false;             // some sibling that is not a tombstone
  std::vector<Sibling> siblings;  // tombstones left out
  std::string context;            // encoded causal context (X-Riak-Vclock, before base64)
  std::size_t clock_entries = 0;
  std::size_t clock_bytes = 0;
};

struct PutReply {
  std::string context;
  std::vector<Sibling> siblings;  // for returnbody
  std::size_t clock_entries = 0;
};

}  // namespace doppel::dvv
