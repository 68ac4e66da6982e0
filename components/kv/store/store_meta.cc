// The store's operations for memcached's meta commands (protocol.txt, "Meta Commands"), and
// incr/decr, which meta arithmetic generalizes. The marks they read and set (fetched, stale,
// win token sent) live in the item's control byte (item.h): setting one never moves a byte.

#include "components/kv/store/decimal.h"
#include "components/kv/store/expiry.h"
#include "components/kv/store/store.h"

namespace doppel::kv {

MetaItemView Store::meta_view(const Found& found) const {
  const ItemHeader& h = found.ref.header;
  MetaItemView v;
  v.item = ItemView{found.ref.value, h.client_flags, h.cas};
  v.exptime = h.exptime;
  v.item_bytes = found.ref.capacity_bytes;
  v.fetched_before = h.fetched;
  v.stale = h.stale;
  v.token_was_sent = h.token_sent;
  return v;
}

std::optional<MetaItemView> Store::peek(std::string_view key, std::int64_t now) {
  begin(now);
  if (key.size() > kKeyBytesMax) return std::nullopt;
  const auto found = lookup(key, hash(key), now);
  if (!found) return std::nullopt;
  return meta_view(*found);
}

std::optional<MetaItemView> Store::meta_get(std::string_view key, const MetaGetOptions& o,
                                            std::int64_t now) {
  begin(now);
  if (key.size() > kKeyBytesMax) return std::nullopt;
  const std::uint64_t h = hash(key);
  std::optional<Found> found = lookup(key, h, now);
  if (!found) {
    // N: the first to miss stores an empty item and wins the right to recache it; later
    // requests see the token as sent (Z).
    if (!o.vivify_exptime) return std::nullopt;
    if (in_past(*o.vivify_exptime, now)) {
      // Made and expired at once (memcached answers it): nothing is kept.
      MetaItemView v;
      v.item.cas = next_cas();
      v.exptime = stored_exptime(*o.vivify_exptime);
      v.won = v.created = true;
      return v;
    }
    const StoreOutcome made = store(StoreMode::add, key, {}, 0, *o.vivify_exptime, {}, now);
    DOPPEL_ASSERT(made == StoreOutcome::stored);
    found = lookup(key, h, now);
    DOPPEL_ASSERT(found.has_value());
    found->ref.header.token_sent = true;
    found->ref.header.fetched = o.mark_fetched;  // memcached counts the making as a fetch
    set_item_marks(found->item, found->ref.header);
    MetaItemView v = meta_view(*found);
    v.fetched_before = false;  // h tells what was true before this request
    v.token_was_sent = false;
    v.won = v.created = true;
    return v;
  }
  MetaItemView v = meta_view(*found);
  // As gat: a touch into the past answers the item, which is gone after (the view stays good:
  // unlinking moves no byte).
  const bool touched_away = o.touch_exptime && in_past(*o.touch_exptime, now);
  if (o.touch_exptime) v.exptime = stored_exptime(*o.touch_exptime);  // t shows the new one
  if (o.touch_exptime && !touched_away) set_item_exptime(found->item, v.exptime);
  // R: an item about to expire is handed to one client to recache; a stale one (md I, ms I)
  // always is. Only one client wins until the item is replaced (memcached's mget).
  const bool expiring_soon =
      o.recache_below_s &&
      (touched_away || (v.exptime != 0 && std::int64_t{v.exptime} - now < *o.recache_below_s));
  v.won = !v.token_was_sent && (expiring_soon || v.stale);
  if (touched_away) {
    unlink(*found, true);
    return v;
  }
  ItemHeader& header = found->ref.header;
  if (v.won || (o.mark_fetched && !header.fetched)) {
    header.token_sent = header.token_sent || v.won;
    header.fetched = header.fetched || o.mark_fetched;
    set_item_marks(found->item, header);
  }
  return v;
}

DeleteOutcome Store::meta_delete(std::string_view key, const MetaDeleteOptions& o,
                                 std::int64_t now) {
  begin(now);
  if (key.size() > kKeyBytesMax) return DeleteOutcome::not_found;
  const auto found = lookup(key, hash(key), now);
  if (!found) return DeleteOutcome::not_found;
  if (o.compare_cas && *o.compare_cas != found->ref.header.cas) return DeleteOutcome::exists;
  if (!o.invalidate) {
    unlink(*found, false);
    return DeleteOutcome::deleted;
  }
  // I: the item stays, stale, under a new unique; the next mg wins the token again.
  ItemHeader header = found->ref.header;
  header.stale = true;
  header.token_sent = false;
  set_item_marks(found->item, header);
  set_item_cas(found->item, next_cas());
  if (o.touch_exptime) {
    if (in_past(*o.touch_exptime, now)) {
      unlink(*found, true);
    } else {
      set_item_exptime(found->item, stored_exptime(*o.touch_exptime));
    }
  }
  return DeleteOutcome::deleted;
}

// --- incr / decr / ma

ArithResult Store::incr(std::string_view key, std::uint64_t delta, std::int64_t now) {
  return arith(key, ArithOptions{.increment = true, .delta = delta}, now);
}

ArithResult Store::decr(std::string_view key, std::uint64_t delta, std::int64_t now) {
  return arith(key, ArithOptions{.increment = false, .delta = delta}, now);
}

ArithResult Store::arith(std::string_view key, const ArithOptions& o, std::int64_t now) {
  begin(now);
  if (key.size() > kKeyBytesMax) return {ArithOutcome::not_found};
  const std::uint64_t h = hash(key);
  std::optional<Found> found = lookup(key, h, now);
  DecimalBuffer digits_buffer;
  for (int attempt = 0;; ++attempt) {  // as in store()
    DOPPEL_ASSERT(attempt < 2);
    if (!found) {
      if (!o.vivify_exptime) return {ArithOutcome::not_found};
      if (in_past(*o.vivify_exptime, now)) {
        // Made and expired at once (memcached answers it): nothing is kept.
        return {ArithOutcome::ok, o.initial, next_cas(), stored_exptime(*o.vivify_exptime)};
      }
      const std::string_view digits = format_decimal_u64(o.initial, digits_buffer);
      const StoreOutcome made = store(StoreMode::add, key, digits, 0, *o.vivify_exptime, {}, now);
      DOPPEL_ASSERT(made == StoreOutcome::stored);
      return {ArithOutcome::ok, o.initial, cas_last_, stored_exptime(*o.vivify_exptime)};
    }
    if (o.compare_cas && *o.compare_cas != found->ref.header.cas) return {ArithOutcome::exists};
    const auto old = parse_decimal_u64(found->ref.value);
    if (!old) return {ArithOutcome::non_numeric};
    // Unsigned arithmetic wraps at 2^64, as memcached's incr.
    const std::uint64_t value =
        o.increment ? *old + o.delta : (*old < o.delta ? 0 : *old - o.delta);
    const std::string_view digits = format_decimal_u64(value, digits_buffer);
    Write write;
    write.header = found->ref.header;
    write.header.value_bytes = static_cast<std::uint32_t>(digits.size());
    write.header.fetched = write.header.stale = write.header.token_sent = false;  // a new value
    if (o.touch_exptime) {
      if (in_past(*o.touch_exptime, now)) {
        // Applied and expired at once: what remains is that the item is gone.
        unlink(*found, true);
        return {ArithOutcome::ok, value, next_cas(), 0};
      }
      write.header.exptime = stored_exptime(*o.touch_exptime);
    }
    write.head = digits;
    const auto used = item_used_bytes(key.size(), digits.size(), write.header.client_flags);
    DOPPEL_ASSERT(used <= options_.item_bytes_max);
    const std::uint32_t footprint = item_footprint_bytes(static_cast<std::uint32_t>(used));
    if (footprint <= found->ref.capacity_bytes) {
      write.header.cas = next_cas();
      write_in_place(*found, key, write);
      return {ArithOutcome::ok, value, write.header.cas, write.header.exptime};
    }
    const std::uint64_t version = index_.layout_version();
    make_room(h, footprint, now);
    if (index_.layout_version() == version) {
      write.header.cas = next_cas();
      write_new(key, h, found, write);
      return {ArithOutcome::ok, value, write.header.cas, write.header.exptime};
    }
    found = lookup(key, h, now);
  }
}

}  // namespace doppel::kv
