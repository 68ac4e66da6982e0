#pragma once
// What the API's two source files share (http_api.cc, http_api_read.cc). Internal.

#include <cstdint>
#include <string>
#include <string_view>

#include "components/dedup/api/http_api.h"

namespace doppel::dedup {

// The status for a store error where the route has none more specific (0: this one).
int status_of(Errc code);
http::Response error_of(const Error& e, int status = 0);
http::Response json_response(int status, std::string body);
// invalid_argument saying what an image name may be.
Status check_image_name(std::string_view image);

// The version a request's {name} and {v} name, and its sizes.
struct DedupApi::Target {
  std::string image;
  VersionNumber version = 0;
  VersionInfo info;
};

// A streamed read in progress: [offset, end) of the version still to send, the first piece
// already read (so that damage found at once is a clean error status).
struct DedupApi::Read {
  std::string image;
  VersionNumber version = 0;
  std::uint64_t offset = 0;
  std::uint64_t end = 0;
  std::string first;
  std::uint64_t compacted_at_start = 0;  // the store's segments_compacted() when it began
};

}  // namespace doppel::dedup
