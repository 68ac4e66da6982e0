#include "components/dedup/store/intent_log.h"

#include <set>

#include "components/dedup/hash/byte_codec.h"

namespace doppel::dedup {
namespace {

constexpr std::string_view kMagic = "DDINTENT";

// BUGGIFY (runtime/buggify.h): a logged change half applied for a while (a
// crash then leaves it for recovery to finish).
const BuggifySite kSlowApply{"dedup.intent.slow_apply",
                             "applying a logged change pauses up to 200 ms between two steps"};

Error corrupt(std::string_view what) {
  return make_error(Errc::corrupt, "intent log: " + std::string(what));
}

bool valid_kind(std::uint8_t k) {
  return k >= static_cast<std::uint8_t>(IntentAction::Kind::rename) &&
         k <= static_cast<std::uint8_t>(IntentAction::Kind::punch);
}

Status apply_action(FileIo& io, const IntentAction& a) {
  switch (a.kind) {
    case IntentAction::Kind::rename: {
      Result<bool> r = io.rename_if_present(a.path, a.to);
      return r ? Status() : Status(r.error());
    }
    case IntentAction::Kind::remove:
      return io.remove_if_present(a.path);
    case IntentAction::Kind::punch:
      return io.punch_if_present(a.path, a.offset, a.length);
  }
  return corrupt("action kind");
}

}  // namespace

std::string encode_intent(const Intent& intent) {
  DOPPEL_ASSERT(intent.actions.size() <= kIntentActionsMax);
  std::string out;
  ByteWriter w(out);
  w.bytes(kMagic);
  w.u32(static_cast<std::uint32_t>(intent.actions.size()));
  for (const IntentAction& a : intent.actions) {
    DOPPEL_ASSERT(a.path.size() <= 0xffff && a.to.size() <= 0xffff);
    w.u8(static_cast<std::uint8_t>(a.kind));
    w.u16(static_cast<std::uint16_t>(a.path.size()));
    w.bytes(a.path);
    w.u16(static_cast<std::uint16_t>(a.to.size()));
    w.bytes(a.to);
    w.u64(a.offset);
    w.u64(a.length);
  }
  w.u64(checksum64(out));
  return out;
}

Result<Intent> decode_intent(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 4 + 8) return corrupt("truncated");
  ByteReader tail(bytes.substr(bytes.size() - 8));
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  if (tail.u64() != checksum64(body)) return corrupt("checksum");
  ByteReader r(body);
  if (r.bytes(kMagic.size()) != kMagic) return corrupt("magic");
  const std::uint32_t count = r.u32();
  if (count > kIntentActionsMax) return corrupt("too many actions");
  Intent intent;
  intent.actions.resize(count);
  for (IntentAction& a : intent.actions) {
    const std::uint8_t kind = r.u8();
    if (!valid_kind(kind)) return corrupt("action kind");
    a.kind = static_cast<IntentAction::Kind>(kind);
    a.path = std::string(r.bytes(r.u16()));
    a.to = std::string(r.bytes(r.u16()));
    a.offset = r.u64();
    a.length = r.u64();
    if (r.failed()) return corrupt("truncated");
  }
  if (!r.at_end()) return corrupt("trailing bytes");
  return intent;
}

std::string encode_intent_log(const Intent& intent) {
  std::string record = encode_intent(intent);
  std::string out;
  out.reserve(2 * record.size());
  out += record;
  out += record;
  return out;
}

Result<Intent> decode_intent_log(std::string_view bytes) {
  Result<Intent> whole = decode_intent(bytes);
  if (whole || bytes.size() % 2 != 0) return whole;
  const std::size_t half = bytes.size() / 2;
  Result<Intent> first = decode_intent(bytes.substr(0, half));
  if (first) return first;
  Result<Intent> second = decode_intent(bytes.substr(half));
  if (second) return second;
  return first.error();
}

Result<std::optional<Intent>> read_intent(FileIo& io, const Paths& paths) {
  Result<std::string> bytes = io.read_all(paths.intent(), kIntentBytesMax);
  if (!bytes) {
    if (bytes.code() == Errc::not_found) return std::optional<Intent>();
    return bytes.error();
  }
  Result<Intent> intent = decode_intent_log(*bytes);
  if (!intent) return intent.error();
  return std::optional<Intent>(std::move(*intent));
}

Status apply_intent(FileIo& io, const Intent& intent) {
  std::set<std::string> punched, dirs;
  for (const IntentAction& a : intent.actions) {
    if (&a != &intent.actions.front()) io.stall(kSlowApply, std::chrono::milliseconds(200));
    if (Status s = apply_action(io, a); !s) return s;
    if (a.kind == IntentAction::Kind::punch) {
      punched.insert(a.path);
    } else {
      dirs.insert(std::string(parent_dir(a.path)));
      if (!a.to.empty()) dirs.insert(std::string(parent_dir(a.to)));
    }
  }
  for (const std::string& path : punched) {
    if (Status s = io.datasync_if_present(path); !s) return s;
  }
  for (const std::string& dir : dirs) {
    if (Status s = io.fs().sync_dir(dir); !s) return s;
  }
  return {};
}

Status clear_intent(FileIo& io, const Paths& paths) {
  if (Status s = io.remove_if_present(paths.intent()); !s) return s;
  return io.fs().sync_dir(paths.log_dir());
}

}  // namespace doppel::dedup
