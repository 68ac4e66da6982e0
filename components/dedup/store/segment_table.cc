#include "components/dedup/store/segment_table.h"

#include <algorithm>

namespace doppel::dedup {

void SegmentTable::clear() {
  by_id_.clear();
  by_fp_.clear();
  borrowing_by_fp_.clear();
  by_hook_.clear();
  space_ = SegmentSpace{};
  unreferenced_bytes_ = 0;
  next_id_ = 1;
}

void SegmentTable::account(const SegmentHeader& h, bool add) {
  const std::uint64_t unreferenced = h.refs_total == 0 ? h.space.stored_bytes : 0;
  if (add) {
    space_ += h.space;
    unreferenced_bytes_ += unreferenced;
  } else {
    space_ -= h.space;
    DOPPEL_ASSERT(unreferenced_bytes_ >= unreferenced);
    unreferenced_bytes_ -= unreferenced;
  }
}

void SegmentTable::index_hooks(const SegmentHeader& h, bool add) {
  if (h.refs_total == 0) return;
  for (const std::uint64_t hook : h.hook_span()) {
    auto [first, last] = by_hook_.equal_range(hook);
    if (!add) {
      for (auto it = first; it != last; ++it) {
        if (it->second == h.id) {
          by_hook_.erase(it);
          break;
        }
      }
      continue;  // not there: pushed out by newer ones
    }
    // The oldest goes when the hook has its fill (ids only grow: the smallest is the oldest).
    if (static_cast<std::size_t>(std::distance(first, last)) >= kSegmentsPerHookMax) {
      auto oldest = first;
      for (auto it = first; it != last; ++it) {
        if (it->second < oldest->second) oldest = it;
      }
      if (oldest->second > h.id) continue;
      by_hook_.erase(oldest);
    }
    by_hook_.emplace(hook, h.id);
  }
}

std::vector<SegmentId> SegmentTable::with_hook(std::uint64_t hook) const {
  std::vector<SegmentId> out;
  auto [first, last] = by_hook_.equal_range(hook);
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  return out;
}

void SegmentTable::put(const SegmentHeader& header, Instant now) {
  DOPPEL_ASSERT(header.id != 0);
  note_id(header.id);
  auto it = by_id_.find(header.id);
  Instant since = now;
  if (it != by_id_.end()) {
    if (it->second.header.refs_total == 0) since = it->second.unreferenced_since;
    erase(header.id);
  }
  by_id_[header.id] = SegmentSummary{header, since};
  account(header, true);
  index_hooks(header, true);
  if (header.complete) by_fp_.try_emplace(header.fp, header.id);
  if (header.borrowing) borrowing_by_fp_[header.fp].insert(header.id);
}

void SegmentTable::erase(SegmentId id) {
  auto it = by_id_.find(id);
  DOPPEL_ASSERT(it != by_id_.end());
  const SegmentHeader& h = it->second.header;
  auto fp = by_fp_.find(h.fp);
  if (fp != by_fp_.end() && fp->second == id) by_fp_.erase(fp);
  if (h.borrowing) {
    auto b = borrowing_by_fp_.find(h.fp);
    DOPPEL_ASSERT(b != borrowing_by_fp_.end());
    const std::size_t erased = b->second.erase(id);
    DOPPEL_ASSERT(erased == 1);
    if (b->second.empty()) borrowing_by_fp_.erase(b);
  }
  account(h, false);
  index_hooks(h, false);
  by_id_.erase(it);
}

const SegmentSummary* SegmentTable::find(SegmentId id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::optional<SegmentId> SegmentTable::find_complete(const Fingerprint& fp) const {
  auto it = by_fp_.find(fp);
  if (it == by_fp_.end()) return std::nullopt;
  return it->second;
}

std::optional<SegmentId> SegmentTable::find_borrowing(const Fingerprint& fp) const {
  auto it = borrowing_by_fp_.find(fp);
  if (it == borrowing_by_fp_.end()) return std::nullopt;
  return *it->second.rbegin();
}

std::vector<SegmentId> SegmentTable::borrowing_copies(const Fingerprint& fp) const {
  auto it = borrowing_by_fp_.find(fp);
  if (it == borrowing_by_fp_.end()) return {};
  return std::vector<SegmentId>(it->second.rbegin(), it->second.rend());
}

void SegmentTable::note_id(SegmentId id) {
  if (id >= next_id_) next_id_ = id + 1;
}

void SegmentTable::check() const {
  SegmentSpace sum;
  std::uint64_t unreferenced = 0;
  std::size_t borrowing_headers = 0;
  for (const auto& [id, s] : by_id_) {
    DOPPEL_ASSERT(s.header.id == id && id < next_id_);
    if (s.header.borrowing) {
      // Nothing references a segment before its commit settles its borrowed blocks, and it was
      // born compacted (generation 1).
      DOPPEL_ASSERT(s.header.refs_total == 0 && s.header.generation >= 1);
      ++borrowing_headers;
    }
    DOPPEL_ASSERT(s.header.space.balanced());
    sum += s.header.space;
    if (s.header.refs_total == 0) unreferenced += s.header.space.stored_bytes;
  }
  DOPPEL_ASSERT(sum == space_);
  DOPPEL_ASSERT(unreferenced == unreferenced_bytes_);
  for (const auto& [fp, id] : by_fp_) {
    const SegmentSummary* s = find(id);
    DOPPEL_ASSERT(s != nullptr && s->header.complete && s->header.fp == fp);
  }
  std::size_t borrowing = 0;
  for (const auto& [fp, ids] : borrowing_by_fp_) {
    DOPPEL_ASSERT(!ids.empty());
    for (const SegmentId id : ids) {
      const SegmentSummary* s = find(id);
      DOPPEL_ASSERT(s != nullptr && s->header.borrowing && s->header.fp == fp);
      ++borrowing;
    }
  }
  DOPPEL_ASSERT(borrowing == borrowing_headers);
  for (const auto& [hook, id] : by_hook_) {
    DOPPEL_ASSERT(by_hook_.count(hook) <= kSegmentsPerHookMax);
    const SegmentSummary* s = find(id);
    DOPPEL_ASSERT(s != nullptr && s->header.refs_total > 0);
    const auto hooks = s->header.hook_span();
    DOPPEL_ASSERT(std::find(hooks.begin(), hooks.end(), hook) != hooks.end());
  }
}

}  // namespace doppel::dedup
