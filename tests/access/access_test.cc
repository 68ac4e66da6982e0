// Access control's parts: an htpasswd file is read strictly (bcrypt only, names checked, errors
// name the line), a password checks against its bcrypt hash and nothing else does, HTTP Basic
// credentials parse as RFC 7617 says, and HMAC-SHA256 gives RFC 4231's vectors.

#include <catch2/catch.hpp>
#include <string>

#include "components/access/gate.h"
#include "components/access/hmac.h"
#include "components/access/users.h"

using namespace doppel;
using namespace doppel::access;

namespace {

std::string hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += kDigits[static_cast<unsigned char>(c) >> 4];
    out += kDigits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

std::string hash_of(const std::string& password) {
  auto h = bcrypt_hash(password, 4, "0123456789abcdef");
  REQUIRE(h.ok());
  return *h;
}

}  // namespace

TEST_CASE("access: a password checks against its user's bcrypt hash, and nothing else does",
          "[sim]") {
  const std::string text =
      "# users\n\nalice:" + hash_of("open sesame") + "\r\nbob:" + hash_of("hunter2") + "\n";
  auto users = Users::parse(text, "u.htpasswd");
  REQUIRE(users.ok());
  REQUIRE(users->size() == 2);
  REQUIRE(users->contains("alice"));
  REQUIRE(users->check("alice", "open sesame"));
  REQUIRE(users->check("bob", "hunter2"));
  REQUIRE_FALSE(users->check("alice", "hunter2"));
  REQUIRE_FALSE(users->check("alice", ""));
  REQUIRE_FALSE(users->check("carol", "open sesame"));
  // htpasswd -B writes $2y$: the same hash under that prefix checks too.
  std::string y = hash_of("pw");
  y[2] = 'y';
  auto with_y = Users::parse("dave:" + y + "\n", "u");
  REQUIRE(with_y.ok());
  REQUIRE(with_y->check("dave", "pw"));
}

TEST_CASE("access: an htpasswd file that is not all bcrypt users is refused, naming the line",
          "[sim]") {
  const std::string good = hash_of("pw");
  auto refused = [](const std::string& text, const std::string& says) {
    auto u = Users::parse(text, "u.htpasswd");
    REQUIRE_FALSE(u.ok());
    INFO(u.error().what);
    REQUIRE(u.error().what.find(says) != std::string::npos);
  };
  refused("alice:" + good + "\nbob:$apr1$abcdefgh$0123456789012345678901\n",
          "u.htpasswd:2: user 'bob': only bcrypt");
  refused("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "only bcrypt");
  refused("alice:plain\n", "only bcrypt");
  refused("no colon here\n", "u.htpasswd:1: expected name:hash");
  refused("al ice:" + good + "\n", "a user name is");
  refused("alice:" + good + "\nalice:" + good + "\n", "u.htpasswd:2: user 'alice' is listed twice");
  REQUIRE(Users::parse("", "u").ok());  // empty: the settings reader refuses it (no users)
}

TEST_CASE("access: HTTP Basic credentials parse as RFC 7617 says", "[sim]") {
  http::Headers h;
  h.add("Authorization", basic_authorization("Aladdin", "open sesame"));
  REQUIRE(h.get("Authorization") ==
          std::optional<std::string_view>("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
  auto c = basic_credentials(h);
  REQUIRE(c.has_value());
  REQUIRE(c->user == "Aladdin");
  REQUIRE(c->password == "open sesame");
  // The scheme is case-insensitive; a password may hold ':'.
  http::Headers lower;
  lower.add("authorization", "basic " + basic_authorization("a", "b:c").substr(6));
  REQUIRE(basic_credentials(lower)->password == "b:c");
  for (const char* bad : {"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic", "Basic !!!!",
                          "Basic QWxhZGRpbg==" /* no ':' */}) {
    http::Headers b;
    b.add("Authorization", bad);
    REQUIRE_FALSE(basic_credentials(b).has_value());
  }
  REQUIRE_FALSE(basic_credentials(http::Headers{}).has_value());
}

TEST_CASE("access: HMAC-SHA256 gives RFC 4231's test vectors", "[sim]") {
  REQUIRE(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  REQUIRE(hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than a block is hashed first (test case 6).
  REQUIRE(hex(hmac_sha256(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First")) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  REQUIRE(same_bytes("abc", "abc"));
  REQUIRE_FALSE(same_bytes("abc", "abd"));
  REQUIRE_FALSE(same_bytes("abc", "ab"));
}
