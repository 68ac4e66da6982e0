// SHA-256 and SHA-1 against FIPS 180-4 / NIST example vectors; chunking
// never changes a digest; fingerprints print and parse as hex.

#include <rapidcheck/catch.h>

#include <array>
#include <catch2/catch.hpp>
#include <string>

#include "components/dedup/hash/fingerprint.h"
#include "components/dedup/hash/sha1.h"
#include "components/dedup/hash/sha256.h"

using namespace doppel;
using namespace doppel::dedup;

namespace {

const std::string k448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const std::string k896 =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrl"
    "mnopqrsmnopqrstnopqrstu";

std::string hex256(std::string_view s) {
  return Hasher::of(HashKind::sha256, s).hex();
}
std::string hex1(std::string_view s) {
  return Hasher::of(HashKind::sha1, s).hex();
}

// A million 'a's, fed 1000 at a time as the NIST test does.
Fingerprint million_a(HashKind kind) {
  Hasher h(kind);
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk);
  return h.finish();
}

}  // namespace

TEST_CASE("hash: sha256 gives the FIPS 180-4 digests", "[unit]") {
  CHECK(hex256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex256(k448) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex256(k896) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(million_a(HashKind::sha256).hex() ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("hash: sha1 gives the FIPS 180-4 digests", "[unit]") {
  CHECK(hex1("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(hex1("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(hex1(k448) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(hex1(k896) == "a49b2446a02c645bf419f995b67091253a04a259");
  CHECK(million_a(HashKind::sha1).hex() == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("hash: messages around the padding boundary hash as one piece or byte by byte",
          "[unit]") {
  for (const HashKind kind : {HashKind::sha256, HashKind::sha1}) {
    for (std::size_t n = 50; n < 140; ++n) {
      const std::string msg(n, static_cast<char>('a' + n % 26));
      Hasher h(kind);
      for (const char c : msg) h.update(std::string_view(&c, 1));
      REQUIRE(h.finish() == Hasher::of(kind, msg));
    }
  }
}

TEST_CASE("hash: any chunking of a message gives the same digest", "[prop]") {
  rc::prop("chunked == whole", [](const std::string& msg, const std::vector<std::uint8_t>& cuts) {
    for (const HashKind kind : {HashKind::sha256, HashKind::sha1}) {
      Hasher h(kind);
      std::size_t at = 0;
      for (const std::uint8_t c : cuts) {
        const std::size_t n = std::min<std::size_t>(c, msg.size() - at);
        h.update(std::string_view(msg).substr(at, n));
        at += n;
      }
      h.update(std::string_view(msg).substr(at));
      RC_ASSERT(h.finish() == Hasher::of(kind, msg));
    }
  });
}

TEST_CASE("hash: a fingerprint prints as hex and parses back, and bad hex is refused", "[unit]") {
  const Fingerprint fp = Hasher::of(HashKind::sha256, "abc");
  REQUIRE(fp.hex().size() == 64);
  REQUIRE(*Fingerprint::from_hex(HashKind::sha256, fp.hex()) == fp);
  const Fingerprint fp1 = Hasher::of(HashKind::sha1, "abc");
  REQUIRE(fp1.hex().size() == 40);
  REQUIRE(*Fingerprint::from_hex(HashKind::sha1, fp1.hex()) == fp1);
  REQUIRE(fp1 != fp);
  REQUIRE(Fingerprint::from_hex(HashKind::sha256, fp1.hex()).code() == Errc::invalid_argument);
  REQUIRE(Fingerprint::from_hex(HashKind::sha1, std::string(40, 'g')).code() ==
          Errc::invalid_argument);
  REQUIRE(parse_hash_kind("sha1") == HashKind::sha1);
  REQUIRE_FALSE(parse_hash_kind("md5").has_value());
}

TEST_CASE("hash: the null fingerprint is the hash of zeros", "[unit]") {
  for (const std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{4096}, std::size_t{5000}, std::size_t{9000}}) {
    REQUIRE(null_fingerprint(HashKind::sha256, n) ==
            Hasher::of(HashKind::sha256, std::string(n, '\0')));
  }
  REQUIRE(is_all_zero(std::string(4097, '\0')));
  std::string almost(4097, '\0');
  almost[4096] = 1;
  REQUIRE_FALSE(is_all_zero(almost));
}

TEST_CASE("hash: hashing two messages in lockstep gives each its own digest", "[unit]") {
  // Around every padding boundary, and a block's size; the pair differs in its last byte.
  for (std::size_t n : {0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 4095, 4096}) {
    std::string a(n, 'x'), b(n, 'x');
    for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<char>(i * 7 + 3);
    b = a;
    if (n > 0) b[n - 1] ^= 1;
    const auto digests = Sha256::of_pair(a, b);
    CHECK(digests[0] == Sha256::of(a));
    CHECK(digests[1] == Sha256::of(b));
  }
  const auto both = Sha256::of_pair(k448, k448);
  CHECK(both[0] == both[1]);
  CHECK(Fingerprint{HashKind::sha256,
                    [&] {
                      std::array<std::uint8_t, Fingerprint::kBytesMax> b{};
                      std::copy(both[0].begin(), both[0].end(), b.begin());
                      return b;
                    }()}
            .hex() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("hash: of_each gives every piece the fingerprint of hashing it alone", "[prop]") {
  rc::prop("pieces of mixed lengths, either kind", [] {
    const auto lengths = *rc::gen::container<std::vector<std::size_t>>(
        rc::gen::oneOf(rc::gen::just<std::size_t>(4096), rc::gen::inRange<std::size_t>(0, 300)));
    const HashKind kind = *rc::gen::element(HashKind::sha256, HashKind::sha1);
    std::vector<std::string> owned;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      owned.emplace_back(lengths[i], static_cast<char>('a' + i % 26));
    }
    const std::vector<std::string_view> pieces(owned.begin(), owned.end());
    std::vector<Fingerprint> fps(pieces.size());
    Hasher::of_each(kind, pieces, fps);
    for (std::size_t i = 0; i < pieces.size(); ++i)
      RC_ASSERT(fps[i] == Hasher::of(kind, pieces[i]));
  });
}

namespace {

// Holds the SHA-extension compression of `State` words to the portable one on random states and
// blocks; warns (and checks nothing) on a CPU without the extensions.
template <std::size_t Words, typename Portable, typename Accelerated>
void accelerated_matches_portable(Portable portable_compress, Accelerated accelerated_compress) {
  std::array<std::uint32_t, Words> probe{};
  const std::uint8_t zero_block[64] = {};
  if (!accelerated_compress(probe, zero_block, 1)) {
    WARN("this CPU has no SHA extensions: only the portable code runs here");
    return;
  }
  rc::prop("any state and any blocks give one state both ways", [&] {
    const auto blocks = *rc::gen::inRange<std::size_t>(1, 6);
    const auto bytes = *rc::gen::container<std::string>(blocks * 64, rc::gen::arbitrary<char>());
    std::array<std::uint32_t, Words> portable;
    for (auto& word : portable) word = *rc::gen::arbitrary<std::uint32_t>();
    std::array<std::uint32_t, Words> accelerated = portable;
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    for (std::size_t i = 0; i < blocks; ++i) portable_compress(portable, data + i * 64);
    RC_ASSERT(accelerated_compress(accelerated, data, blocks));
    RC_ASSERT(accelerated == portable);
  });
}

}  // namespace

TEST_CASE("hash: sha1 with the CPU's SHA extensions compresses as the portable code does",
          "[prop]") {
  accelerated_matches_portable<5>(sha1_compress_portable, sha1_compress_accelerated);
}

TEST_CASE("hash: sha256 with the CPU's SHA extensions compresses as the portable code does",
          "[prop]") {
  accelerated_matches_portable<8>(sha256_compress_portable, sha256_compress_accelerated);
}
