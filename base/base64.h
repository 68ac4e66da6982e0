#pragma once
// base64, standard alphabet with padding (RFC 4648 4): Riak's X-Riak-Vclock, and the binary keys
// of memcached's meta commands (their "b" flag).

#include <string>
#include <string_view>

#include "runtime/result.h"

namespace doppel {

std::string base64_encode(std::string_view bytes);
// Strict: the length is a multiple of 4, padding only at the end, no other bytes, unused bits
// zero. Errors are Errc::corrupt.
Result<std::string> base64_decode(std::string_view text);

}  // namespace doppel
