// The intent log's file survives one flipped bit: recovery must learn which
// change was in flight even when the disk damaged the record that says so.

#include "components/dedup/store/intent_log.h"

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>

namespace doppel::dedup {
namespace {

Intent sample_intent() {
  Intent intent;
  intent.actions.push_back(
      {IntentAction::Kind::rename, "recipes/a/0001.next", "recipes/a/0001", 0, 0});
  intent.actions.push_back({IntentAction::Kind::punch, "segments/0003.data", "", 4096, 8192});
  intent.actions.push_back({IntentAction::Kind::remove, "segments/0002.meta", "", 0, 0});
  return intent;
}

TEST_CASE("the intent log decodes to the intent it was written from") {
  const Intent intent = sample_intent();
  Result<Intent> back = decode_intent_log(encode_intent_log(intent));
  REQUIRE(back);
  CHECK(*back == intent);
}

TEST_CASE("an intent log written by an older build (one record) is still read") {
  const Intent intent = sample_intent();
  Result<Intent> back = decode_intent_log(encode_intent(intent));
  REQUIRE(back);
  CHECK(*back == intent);
}

TEST_CASE("the intent log survives a flipped bit") {
  rc::prop("any one flipped bit of the intent log leaves the intent readable", [] {
    const Intent intent = sample_intent();
    std::string log = encode_intent_log(intent);
    const std::size_t bit = *rc::gen::inRange<std::size_t>(0, log.size() * 8);
    log[bit / 8] = static_cast<char>(log[bit / 8] ^ (1u << (bit % 8)));
    Result<Intent> back = decode_intent_log(log);
    RC_ASSERT(back.ok());
    RC_ASSERT(*back == intent);
  });
}

TEST_CASE("an intent log with both copies damaged is corrupt, not guessed") {
  std::string log = encode_intent_log(sample_intent());
  log[3] = static_cast<char>(log[3] ^ 1);
  log[log.size() / 2 + 3] = static_cast<char>(log[log.size() / 2 + 3] ^ 1);
  Result<Intent> back = decode_intent_log(log);
  REQUIRE_FALSE(back);
  CHECK(back.code() == Errc::corrupt);
}

TEST_CASE("a truncated intent log is corrupt") {
  std::string log = encode_intent_log(sample_intent());
  log.resize(log.size() - 5);
  CHECK(decode_intent_log(log).code() == Errc::corrupt);
}

}  // namespace
}  // namespace doppel::dedup
