#include "components/dedup/store/paths.h"

#include <charconv>

namespace doppel::dedup {
namespace {

constexpr int kSegmentIdDigits = 16;
constexpr int kVersionDigits = 10;

std::string hex_fixed(std::uint64_t v, int digits) {
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0 && v != 0; --i, v >>= 4) {
    out[static_cast<std::size_t>(i)] = "0123456789abcdef"[v & 15];
  }
  return out;
}

std::string decimal_fixed(std::uint64_t v, int digits) {
  std::string s = std::to_string(v);
  if (s.size() < static_cast<std::size_t>(digits)) {
    s.insert(0, static_cast<std::size_t>(digits) - s.size(), '0');
  }
  return s;
}

template <class T>
std::optional<T> parse_number(std::string_view s, int base) {
  T v{};
  if (s.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string Paths::segment_meta(SegmentId id) const {
  return segments_dir() + "/" + hex_fixed(id, kSegmentIdDigits) + ".meta";
}

std::string Paths::segment_data(SegmentId id, std::uint32_t generation) const {
  return segments_dir() + "/" + hex_fixed(id, kSegmentIdDigits) + "." + std::to_string(generation) +
         ".data";
}

std::string Paths::trash_place(std::string_view path) const {
  const std::size_t slash = path.rfind('/');
  return trash_dir() + "/" +
         std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string Paths::image_dir(std::string_view image) const {
  return images_dir() + "/" + std::string(image);
}

std::string Paths::recipe(std::string_view image, VersionNumber version) const {
  return image_dir(image) + "/" + decimal_fixed(version, kVersionDigits) + ".recipe";
}

std::string Paths::gone_marker(std::string_view image, VersionNumber version) const {
  return image_dir(image) + "/" + decimal_fixed(version, kVersionDigits) + ".gone";
}

std::string_view parent_dir(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::optional<SegmentFileName> parse_segment_file(std::string_view name) {
  if (name.size() < kSegmentIdDigits + 1 || name[kSegmentIdDigits] != '.') return std::nullopt;
  const auto id = parse_number<std::uint64_t>(name.substr(0, kSegmentIdDigits), 16);
  if (!id || *id == 0) return std::nullopt;
  const std::string_view rest = name.substr(kSegmentIdDigits + 1);
  if (rest == "meta") return SegmentFileName{*id, true, 0};
  if (!ends_with(rest, ".data")) return std::nullopt;
  const auto gen = parse_number<std::uint32_t>(rest.substr(0, rest.size() - 5), 10);
  if (!gen) return std::nullopt;
  return SegmentFileName{*id, false, *gen};
}

std::optional<VersionFileName> parse_version_file(std::string_view name) {
  if (name.size() < kVersionDigits + 1 || name[kVersionDigits] != '.') return std::nullopt;
  const auto v = parse_number<std::uint64_t>(name.substr(0, kVersionDigits), 10);
  if (!v || *v == 0) return std::nullopt;
  const std::string_view rest = name.substr(kVersionDigits + 1);
  if (rest == "recipe") return VersionFileName{*v, true};
  if (rest == "gone") return VersionFileName{*v, false};
  return std::nullopt;
}

bool is_staged_name(std::string_view name) {
  return ends_with(name, kStagedSuffix);
}

bool valid_image_name(std::string_view image) {
  if (image.empty() || image.size() > kImageNameBytesMax || image[0] == '.') return false;
  if (is_staged_name(image)) return false;
  for (const char c : image) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace doppel::dedup
