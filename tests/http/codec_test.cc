// The codecs: base64 and percent-encoding round trips, multipart/mixed written and parsed back,
// Range parsing (416 cases included) and Content-Range, HTTP dates.

#include "components/http/codec.h"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace doppel;
using namespace doppel::http;
using namespace std::string_literals;

TEST_CASE("http codec: base64 matches RFC 4648's vectors and refuses malformed text", "[unit]") {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"},
                                                                    {"\xff\xfe\x00"s, "//4A"}};
  for (const auto& [plain, encoded] : vectors) {
    REQUIRE(base64_encode(plain) == encoded);
    auto decoded = base64_decode(encoded);
    REQUIRE(decoded.ok());
    REQUIRE(*decoded == plain);
  }
  for (const char* bad : {"Zg=", "Zh==", "Zm9=", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm 9", "===="}) {
    INFO(bad);
    auto r = base64_decode(bad);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.code() == Errc::corrupt);
  }
}

TEST_CASE("http codec: base64 and percent-encoding round trip any bytes", "[prop]") {
  rc::prop("base64_decode(base64_encode(x)) == x", [](const std::string& bytes) {
    const std::string encoded = base64_encode(bytes);
    RC_ASSERT(encoded.size() % 4 == 0);
    auto decoded = base64_decode(encoded);
    RC_ASSERT(decoded.ok());
    RC_ASSERT(*decoded == bytes);
  });
  rc::prop(
      "percent_decode(percent_encode(x)) == x, with or without plus", [](const std::string& b) {
        const std::string encoded = percent_encode(b);
        RC_ASSERT(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789-._~%") == std::string::npos);
        for (bool plus : {false, true}) {
          auto decoded = percent_decode(encoded, plus);
          RC_ASSERT(decoded.ok());
          RC_ASSERT(*decoded == b);
        }
      });
}

TEST_CASE("http codec: percent-encoding keeps unreserved bytes and refuses bad escapes", "[unit]") {
  REQUIRE(percent_encode("a-b_c.d~e") == "a-b_c.d~e");
  REQUIRE(percent_encode("a b/c?d&e=f+%\xff") == "a%20b%2Fc%3Fd%26e%3Df%2B%25%FF");
  REQUIRE(*percent_decode("a%2fb%2F%41") == "a/b/A");
  REQUIRE(*percent_decode("a+b", true) == "a b");
  REQUIRE(*percent_decode("a+b", false) == "a+b");
  for (const char* bad : {"%", "%4", "a%zz", "%g0"}) {
    REQUIRE(percent_decode(bad).code() == Errc::invalid_argument);
  }
  const std::vector<std::string> segments = {"buckets", "a b", "keys", "x/y"};
  REQUIRE(make_target(segments, {{"r", "2"}, {"q", "a&b"}}) ==
          "/buckets/a%20b/keys/x%2Fy?r=2&q=a%26b");
  REQUIRE(make_target({}) == "/");
}

TEST_CASE("http codec: multipart/mixed written then parsed gives the parts back", "[prop]") {
  rc::prop("multipart_parse(multipart_write(parts)) == parts", [] {
    Prng rng(*rc::gen::arbitrary<std::uint64_t>());
    const std::string boundary = make_boundary(rng);
    RC_ASSERT(boundary.size() == kBoundaryBytes);
    std::vector<Part> parts(*rc::gen::inRange<std::size_t>(0, 5));
    for (Part& p : parts) {
      const int fields = *rc::gen::inRange(0, 3);
      for (int i = 0; i < fields; ++i) {
        p.headers.add("X-Field-" + std::to_string(i), std::to_string(*rc::gen::arbitrary<int>()));
      }
      p.body = *rc::gen::arbitrary<std::string>();
      if (*rc::gen::inRange(0, 4) == 0) p.body += "\r\n--" + boundary.substr(0, 5) + "\r\n";
    }
    auto body = multipart_write(parts, boundary);
    RC_ASSERT(body.ok());
    auto back = multipart_parse(*body, boundary);
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == parts);
    auto type = multipart_boundary(multipart_content_type(boundary));
    RC_ASSERT(type.ok());
    RC_ASSERT(*type == boundary);
  });
}

TEST_CASE("http codec: multipart parses Riak's form and refuses malformed bodies", "[unit]") {
  const std::string riak =
      "\r\n--YinLMzyUR9feB17okMytgKsylvh\r\nContent-Type: text/plain\r\nLink: </buckets/b>; "
      "rel=\"up\"\r\n\r\nsibling one\r\n--YinLMzyUR9feB17okMytgKsylvh\r\nContent-Type: "
      "text/plain\r\n\r\nsibling two\r\n--YinLMzyUR9feB17okMytgKsylvh--\r\n";
  auto parts = multipart_parse(riak, "YinLMzyUR9feB17okMytgKsylvh");
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 2);
  REQUIRE((*parts)[0].body == "sibling one");
  REQUIRE((*parts)[0].headers.get("link") == "</buckets/b>; rel=\"up\"");
  REQUIRE((*parts)[1].body == "sibling two");
  REQUIRE(*multipart_boundary("multipart/mixed; boundary=YinLMzyUR9feB17okMytgKsylvh") ==
          "YinLMzyUR9feB17okMytgKsylvh");
  REQUIRE(*multipart_boundary("Multipart/Mixed;charset=x; Boundary=\"a b:c\"") == "a b:c");
  REQUIRE_FALSE(multipart_boundary("text/plain; boundary=x").ok());
  REQUIRE_FALSE(multipart_boundary("multipart/mixed").ok());
  REQUIRE(multipart_parse("no delimiter", "b").code() == Errc::corrupt);
  REQUIRE(multipart_parse("--b\r\n\r\nunterminated", "b").code() == Errc::corrupt);
  REQUIRE(multipart_parse("--bx\r\n\r\nbody\r\n--b--", "b").code() == Errc::corrupt);
  REQUIRE(multipart_parse("--b\r\nno colon\r\n\r\nbody\r\n--b--", "b").code() == Errc::corrupt);
  REQUIRE(multipart_parse("--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--", "b", 1).code() ==
          Errc::too_large);
  const std::vector<Part> holds = {Part{{}, "a\r\n--b--"}};
  REQUIRE(multipart_write(holds, "b").code() == Errc::invalid_argument);
}

TEST_CASE("http codec: Range parsing covers every form and its 416 cases", "[unit]") {
  using Kind = RangeRequest::Kind;
  struct Row {
    std::string value;
    std::uint64_t size;
    RangeRequest expected;
  };
  const std::vector<Row> table = {
      {"bytes=0-499", 1000, {Kind::partial, {0, 499}}},
      {"bytes=500-999", 1000, {Kind::partial, {500, 999}}},
      {"bytes=500-5000", 1000, {Kind::partial, {500, 999}}},  // clamped
      {"bytes=999-999", 1000, {Kind::partial, {999, 999}}},
      {"bytes=900-", 1000, {Kind::partial, {900, 999}}},  // open-ended
      {"bytes=0-", 1000, {Kind::partial, {0, 999}}},
      {"bytes=-100", 1000, {Kind::partial, {900, 999}}},  // suffix
      {"bytes=-5000", 1000, {Kind::partial, {0, 999}}},   // suffix longer than the body
      {" Bytes = 1-2 ", 1000, {Kind::whole, {}}},         // no space before "="
      {"BYTES=1-2", 1000, {Kind::partial, {1, 2}}},
      {"bytes=1000-", 1000, {Kind::unsatisfiable, {}}},  // starts past the end
      {"bytes=1000-2000", 1000, {Kind::unsatisfiable, {}}},
      {"bytes=-0", 1000, {Kind::unsatisfiable, {}}},  // an empty suffix
      {"bytes=0-", 0, {Kind::unsatisfiable, {}}},     // nothing to start at
      {"bytes=-5", 0, {Kind::whole, {}}},             // satisfiable, but no byte to send
      {"bytes=99999999999999999999999-", 1000, {Kind::unsatisfiable, {}}},
      {"bytes=5-4", 1000, {Kind::whole, {}}},      // invalid: ignored
      {"bytes=0-1,5-6", 1000, {Kind::whole, {}}},  // several ranges: ignored
      {"items=0-1", 1000, {Kind::whole, {}}},
      {"bytes=a-b", 1000, {Kind::whole, {}}},
      {"bytes=-", 1000, {Kind::whole, {}}},
      {"bytes=1", 1000, {Kind::whole, {}}},
      {"", 1000, {Kind::whole, {}}},
  };
  for (const Row& row : table) {
    INFO("Range: " << row.value << " size " << row.size);
    REQUIRE(parse_range(row.value, row.size) == row.expected);
  }
  REQUIRE(content_range(ByteRange{0, 499}, 1000) == "bytes 0-499/1000");
  REQUIRE(content_range_unsatisfiable(1000) == "bytes */1000");
  REQUIRE(ByteRange{10, 19}.length() == 10);
}

TEST_CASE("http codec: dates are IMF-fixdate", "[unit]") {
  auto at = [](std::int64_t seconds) { return WallTime(Duration(seconds * 1'000'000'000)); };
  REQUIRE(format_http_date(at(0)) == "Thu, 01 Jan 1970 00:00:00 GMT");
  REQUIRE(format_http_date(at(784111777)) == "Sun, 06 Nov 1994 08:49:37 GMT");
  REQUIRE(format_http_date(at(951782400)) == "Tue, 29 Feb 2000 00:00:00 GMT");
  REQUIRE(format_http_date(at(4102444799)) == "Thu, 31 Dec 2099 23:59:59 GMT");
}
