#include "base/toml.h"

#include <algorithm>

namespace doppel {

Result<toml::table> parse_toml(std::string_view text, std::string_view source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    std::string msg(source);
    if (err.source().begin) msg += ":" + std::to_string(err.source().begin.line);
    return make_error(Errc::invalid_argument, msg + ": " + std::string(err.description()));
  }
}

Error toml_error(std::string_view source, const toml::node* node, std::string_view key,
                 std::string_view what) {
  std::string msg(source);
  if (node != nullptr && node->source().begin)
    msg += ":" + std::to_string(node->source().begin.line);
  msg += ": ";
  if (!key.empty()) msg += "'" + std::string(key) + "': ";
  msg += what;
  return make_error(Errc::invalid_argument, msg);
}

Status toml_known_keys(const toml::table& t, std::string_view source,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : t) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return toml_error(source, &v, k.str(), "unknown key (expected one of: " + list + ")");
    }
  }
  return {};
}

Result<std::int64_t> toml_int(const toml::table& t, std::string_view key, std::string_view source,
                              std::int64_t lo, std::int64_t hi, std::int64_t fallback) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  if (n->type() != toml::node_type::integer)
    return toml_error(source, n, key, "expected an integer");
  const std::int64_t v = *n->value<std::int64_t>();
  if (v < lo || v > hi) {
    return toml_error(source, n, key,
                      "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                          ", got " + std::to_string(v));
  }
  return v;
}

Result<bool> toml_bool(const toml::table& t, std::string_view key, std::string_view source,
                       bool fallback) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  if (n->type() != toml::node_type::boolean)
    return toml_error(source, n, key, "expected true or false");
  return *n->value<bool>();
}

Result<std::string> toml_string(const toml::table& t, std::string_view key, std::string_view source,
                                bool required) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) return toml_error(source, nullptr, key, "missing");
    return std::string();
  }
  if (n->type() != toml::node_type::string) return toml_error(source, n, key, "expected a string");
  return *n->value<std::string>();
}

Result<std::string> toml_choice(const toml::table& t, std::string_view key, std::string_view source,
                                std::initializer_list<std::string_view> choices,
                                std::string_view fallback) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::string(fallback);
  auto v = toml_string(t, key, source);
  if (!v) return v.error();
  if (std::find(choices.begin(), choices.end(), *v) != choices.end()) return v;
  std::string list;
  for (std::string_view c : choices) list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  return toml_error(source, n, key, "expected one of " + list + ", got \"" + *v + "\"");
}

Result<Duration> toml_ms(const toml::table& t, std::string_view key, std::string_view source,
                         std::int64_t lo_ms, std::int64_t hi_ms, Duration fallback) {
  auto v = toml_int(t, key, source, lo_ms, hi_ms, to_ns(fallback) / 1'000'000);
  if (!v) return v.error();
  if (t.get(key) == nullptr) return fallback;
  return Duration(*v * 1'000'000);
}

std::int64_t TomlFields::integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                                 std::int64_t fallback) {
  ask(key);
  return keep(toml_int(t_, key, source_, lo, hi, fallback), fallback);
}

bool TomlFields::boolean(std::string_view key, bool fallback) {
  ask(key);
  return keep(toml_bool(t_, key, source_, fallback), fallback);
}

std::string TomlFields::string(std::string_view key, std::string_view fallback) {
  ask(key);
  if (!has(key)) return std::string(fallback);
  return keep(toml_string(t_, key, source_), std::string(fallback));
}

std::vector<std::string> TomlFields::strings(std::string_view key) {
  ask(key);
  std::vector<std::string> out;
  const toml::node* n = t_.get(key);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    (void)keep(Result<int>(toml_error(source_, n, key, "expected an array of strings")), 0);
    return out;
  }
  for (const toml::node& item : *a) {
    const auto* str = item.as_string();
    if (str == nullptr) {
      (void)keep(Result<int>(toml_error(source_, &item, key, "expected an array of strings")), 0);
      return {};
    }
    out.push_back(str->get());
  }
  return out;
}

std::optional<std::string> TomlFields::file(std::string_view key, const FileReader& read) {
  ask(key);
  if (!has(key)) return std::nullopt;
  const std::string path = keep(toml_string(t_, key, source_), std::string());
  if (!ok_) return std::nullopt;
  if (path.empty() || !read) {
    fail(key, path.empty() ? "an empty path" : "no files can be read here");
    return std::nullopt;
  }
  auto text = read(path);
  if (!text) {
    fail(key, text.error().what.empty() ? path + ": " + text.error().message() : text.error().what);
    return std::nullopt;
  }
  return std::move(*text);
}

std::string TomlFields::choice(std::string_view key,
                               std::initializer_list<std::string_view> choices,
                               std::string_view fallback) {
  ask(key);
  return keep(toml_choice(t_, key, source_, choices, fallback), std::string(fallback));
}

Duration TomlFields::ms(std::string_view key, std::int64_t lo_ms, std::int64_t hi_ms,
                        Duration fallback) {
  ask(key);
  return keep(toml_ms(t_, key, source_, lo_ms, hi_ms, fallback), fallback);
}

void TomlFields::known_keys(std::initializer_list<std::string_view> allowed) {
  if (!ok_) return;
  if (Status s = toml_known_keys(t_, source_, allowed); !s) {
    ok_ = false;
    error_ = s.error();
  }
}

void TomlFields::reject_unknown_keys() {
  if (!ok_) return;
  for (const auto& [k, v] : t_) {
    if (std::find(asked_.begin(), asked_.end(), k.str()) != asked_.end()) continue;
    std::string list;
    for (const std::string& a : asked_) list += (list.empty() ? "" : ", ") + a;
    ok_ = false;
    error_ = toml_error(source_, &v, k.str(), "unknown key (expected one of: " + list + ")");
    return;
  }
}

void TomlFields::fail(std::string_view key, std::string_view what) {
  if (!ok_) return;
  ok_ = false;
  error_ = toml_error(source_, t_.get(key), key, what);
}

}  // namespace doppel
