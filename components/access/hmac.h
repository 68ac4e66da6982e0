#pragma once
// HMAC-SHA256 (RFC 2104), for the DVV cluster's node-to-node handshake: each side proves it
// knows the cluster secret without sending it.

#include <string>
#include <string_view>

namespace doppel::access {

// The 32-byte MAC of `message` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view message);

// Equal bytes, in time that depends on the length only (a MAC compared byte by byte and
// stopped at the first difference tells an attacker how much of a forgery was right).
bool same_bytes(std::string_view a, std::string_view b);

}  // namespace doppel::access
