#pragma once
// The encodings an HTTP API needs around its messages:
// - base64, standard alphabet with padding (RFC 4648 4), as Riak's X-Riak-Vclock;
// - percent-encoding of path segments and query components (RFC 3986 2.1);
// - multipart/mixed bodies (RFC 2046 5.1), as Riak's answers with siblings, with boundaries
//   drawn from a Prng passed in (components never read clocks or system randomness);
// - byte ranges: "Range: bytes=a-b" (one range; suffix and open-ended forms) and
//   Content-Range (RFC 9110 14);
// - IMF-fixdate for the Date field (RFC 9110 5.6.7).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/base64.h"
#include "components/http/message.h"
#include "runtime/random.h"
#include "runtime/result.h"
#include "runtime/time.h"

namespace doppel::http {

// --- base64 (base/base64.h)
using doppel::base64_decode;
using doppel::base64_encode;

// --- percent-encoding
// Every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~) becomes %XX (upper-case hex): safe
// for a path segment and for a query name or value alike.
std::string percent_encode(std::string_view bytes);
// %XX decoded (either case of hex); with plus_is_space, "+" is a space (query components, as
// HTML forms send them). A "%" without two hex digits is Errc::invalid_argument.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space = false);
// "/seg/seg?name=value&...": each segment, name and value percent-encoded. No segments: "/".
std::string make_target(std::span<const std::string> segments, const QueryParams& query = {});

// --- multipart/mixed
struct Part {
  Headers headers;
  std::string body;
  bool operator==(const Part&) const = default;
};

inline constexpr std::size_t kBoundaryBytes = 32;     // ~190 random bits: never in a body by chance
inline constexpr std::size_t kBoundaryBytesMax = 70;  // RFC 2046 5.1.1
inline constexpr std::size_t kMultipartPartsMax = 10'000;
inline constexpr std::size_t kPartHeaderFieldsMax = 64;

// kBoundaryBytes characters from [0-9A-Za-z].
std::string make_boundary(Prng& rng);
// "multipart/mixed; boundary=<boundary>".
std::string multipart_content_type(std::string_view boundary);
// The boundary parameter of a multipart Content-Type (token or quoted-string).
Result<std::string> multipart_boundary(std::string_view content_type);
// The body: each part's header fields, an empty line, its body, between delimiter lines. A part
// whose body holds the delimiter cannot be framed: Errc::invalid_argument (draw a new boundary).
Result<std::string> multipart_write(std::span<const Part> parts, std::string_view boundary);
// The parts of a body (the preamble and epilogue are ignored). Malformed: Errc::corrupt.
Result<std::vector<Part>> multipart_parse(std::string_view body, std::string_view boundary,
                                          std::size_t parts_max = kMultipartPartsMax);

// --- byte ranges
// Inclusive bounds, first <= last < the representation's size.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

struct RangeRequest {
  enum class Kind : std::uint8_t {
    whole,          // no usable Range: answer 200 with everything (RFC 9110 14.2 lets a
                    // server ignore a Range it cannot or will not honour, e.g. several ranges)
    partial,        // answer 206 with `range` and Content-Range
    unsatisfiable,  // answer 416 with "Content-Range: bytes */<size>"
  };
  Kind kind = Kind::whole;
  ByteRange range;
  bool operator==(const RangeRequest&) const = default;
};

// A Range field value ("bytes=0-499", "bytes=500-", "bytes=-500") against a representation of
// `size` bytes. A last position past the end is clamped; a suffix longer than the
// representation takes all of it; a first position at or past the end, or a zero-length suffix,
// is unsatisfiable. Another unit, several ranges or a malformed value: whole. An empty
// representation has no byte to send: whole, unless no range could ever be satisfied.
RangeRequest parse_range(std::string_view value, std::uint64_t size);
// "bytes <first>-<last>/<size>".
std::string content_range(ByteRange range, std::uint64_t size);
// "bytes */<size>", for a 416.
std::string content_range_unsatisfiable(std::uint64_t size);

// --- dates
// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". Times before 1970 are clamped to the epoch.
std::string format_http_date(WallTime time);

}  // namespace doppel::http
