#include "properties/dvv/causal_jsonl.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/json.h"

namespace doppel::properties::dvv {
namespace {

Error bad(const std::string& what) {
  return make_error(Errc::corrupt, what);
}

// An array of strings, at most `max` of them.
Result<std::vector<std::string>> strings_of(const JsonValue& v, std::string_view name,
                                            std::size_t max) {
  const std::string what = "'" + std::string(name) + "': expected an array of strings";
  if (!v.is(JsonValue::Kind::array)) return bad(what);
  if (v.items().size() > max) {
    return bad("'" + std::string(name) + "': more than " + std::to_string(max) + " items");
  }
  std::vector<std::string> out;
  for (const JsonValue& item : v.items()) {
    if (!item.is(JsonValue::Kind::string)) return bad(what);
    out.push_back(item.text());
  }
  return out;
}

// A member that is a string, or nullopt when absent; an error when it is something else.
Result<std::optional<std::string>> optional_string(const JsonValue& op, std::string_view name) {
  const JsonValue* v = op.get(name);
  if (v == nullptr || v->is(JsonValue::Kind::null)) return std::optional<std::string>{};
  if (!v->is(JsonValue::Kind::string)) {
    return bad("'" + std::string(name) + "': expected a string");
  }
  return std::optional<std::string>(v->text());
}

bool is_write(const std::string& f) {
  return f == "put" || f == "delete";
}

}  // namespace

Status CausalCheck::line(std::string_view text) {
  ++line_;
  const auto at = [](const Error& e) { return make_error(Errc::corrupt, e.what); };
  if (text.find_first_not_of(" \t\r") == std::string_view::npos) return {};
  if (text.size() > kLineBytesMax) {
    return at(bad("longer than " + std::to_string(kLineBytesMax) + " bytes"));
  }
  auto json = JsonValue::parse(text);
  if (!json) return at(json.error());
  if (!json->is(JsonValue::Kind::object)) return at(bad("expected a JSON object"));
  auto process = json->i64("process");
  if (!process) return at(process.error());
  auto type = json->string("type");
  if (!type) return at(type.error());
  auto f = json->string("f");
  if (!f) return at(f.error());
  auto key = json->string("key");
  if (!key) return at(key.error());
  if (*f != "get" && !is_write(*f)) {
    return at(bad("'f': expected \"get\", \"put\" or \"delete\", got \"" + *f + "\""));
  }
  auto value = optional_string(*json, "value");
  if (*type == "invoke") {
    Pending op;
    op.f = *f;
    op.key = *key;
    op.line = line_;
    const JsonValue* obs = json->get("observed");
    if (obs != nullptr) {
      if (!is_write(*f)) return at(bad("'observed' on a get"));
      auto seen = strings_of(*obs, "observed", kSiblingsMax);
      if (!seen) return at(seen.error());
      op.observed = std::move(*seen);
    }
    if (const JsonValue* fin = json->get("final"); fin != nullptr) {
      auto flag = json->boolean("final");
      if (!flag) return at(flag.error());
      if (*f != "get" && *flag) return at(bad("'final' on a write"));
      op.final = *flag;
    }
    if (!value) return at(value.error());
    if (is_write(*f)) {
      const bool named = *f == "put" || obs != nullptr;
      if (named && (!*value || (*value)->empty())) {
        return at(bad("a " + *f + " must name its value in 'value' (a non-empty string)"));
      }
      if (!named && *value) {
        return at(bad("a blind delete (one without 'observed') names no value"));
      }
      if (*value) op.value = **value;
    }
    if (Status s = invoke(*process, std::move(op)); !s) return at(s.error());
    return {};
  }
  if (*type != "ok" && *type != "fail" && *type != "info") {
    return at(bad("'type': expected invoke, ok, fail or info, got \"" + *type + "\""));
  }
  std::vector<std::string> siblings;
  const bool read_answer = *f == "get" && *type == "ok";
  if (read_answer) {
    const JsonValue* v = json->get("value");
    if (v == nullptr) return at(bad("a get's ok must hold the siblings read in 'value'"));
    auto s = strings_of(*v, "value", kSiblingsMax);
    if (!s) return at(s.error());
    siblings = std::move(*s);
  } else if (!value) {
    return at(value.error());
  }
  const std::string* named = !read_answer && *value ? &**value : nullptr;
  if (Status s = complete(*process, *type, *f, read_answer ? &siblings : nullptr, named); !s) {
    return at(s.error());
  }
  return {};
}

Status CausalCheck::invoke(std::int64_t process, Pending op) {
  if (const auto it = pending_.find(process); it != pending_.end()) {
    return bad("process " + std::to_string(process) + " invokes while its operation of line " +
               std::to_string(it->second.line) + " is pending");
  }
  ++report_.operations;
  if (op.f == "get") {
    // A blind delete still running could delete anything: every loss would be excused, and
    // the read would pass unjudged. (A named write still pending is unacknowledged: it may
    // appear or not, and is never required.)
    if (op.final && blind_pending_[op.key] > 0) {
      return bad("the final get of \"" + op.key +
                 "\" begins while a blind delete of its key is pending: a final read begins "
                 "after every write of its key ended");
    }
    if (op.final) op.acks_before = acks_[op.key];
  } else if (op.value.empty()) {
    ++report_.writes;
    ++blind_pending_[op.key];
    oracle_.blind_delete(op.key, /*answered=*/false);  // it may delete anything until it ends
  } else {
    if (oracle_.writes() >= CausalOracle::kValuesMax) {
      return bad("more than " + std::to_string(CausalOracle::kValuesMax) + " writes");
    }
    if (!values_.insert(op.value).second) {
      return bad("the value \"" + op.value + "\" is written twice: values must be unique");
    }
    ++report_.writes;
    oracle_.wrote(op.key, op.value, op.observed, /*tombstone=*/op.f == "delete");
  }
  pending_.emplace(process, std::move(op));
  return {};
}

Status CausalCheck::complete(std::int64_t process, const std::string& type, const std::string& f,
                             const std::vector<std::string>* siblings, const std::string* value) {
  const auto it = pending_.find(process);
  if (it == pending_.end()) {
    return bad("a completion of process " + std::to_string(process) + ", which has none pending");
  }
  const Pending op = std::move(it->second);
  pending_.erase(it);
  if (op.f != f || (value != nullptr && *value != op.value)) {
    return bad("completes the " + op.f + " of line " + std::to_string(op.line) +
               " with another operation");
  }
  if (op.f == "get") {
    if (siblings == nullptr) return {};
    if (op.final && acks_[op.key] != op.acks_before) {
      return bad("the final get of \"" + op.key + "\" (line " + std::to_string(op.line) +
                 ") overlaps an acknowledged write of its key: a final read begins after every "
                 "write of its key ended");
    }
    judge(op, *siblings);
    return {};
  }
  if (op.value.empty()) {
    blind_delete_ended(op.key, type != "info");
    return {};
  }
  if (type == "ok") {
    ++report_.acked;
    ++acks_[op.key];
    oracle_.acked(op.key, op.value);
  }
  return {};
}

void CausalCheck::blind_delete_ended(const std::string& key, bool answered) {
  --blind_pending_[key];
  if (!answered) blind_unanswered_.insert(key);
  // Narrowed to what was written before it ended only when no other blind delete of the key
  // may still run: one unanswered may be applied at any later time.
  if (blind_pending_[key] == 0 && blind_unanswered_.count(key) == 0) {
    oracle_.blind_delete(key, /*answered=*/true);
  }
}

void CausalCheck::judge(const Pending& op, const std::vector<std::string>& siblings) {
  ++report_.reads;
  const CausalOracle::Verdict v = oracle_.judge(op.key, siblings);
  for (const std::string& s : v.false_siblings) found("false-sibling", op.key, s);
  for (const std::string& s : v.unwritten) found("unwritten", op.key, s);
  if (!op.final) return;  // a sloppy quorum may miss values until the replicas converge
  ++report_.final_reads;
  judged_keys_.insert(op.key);
  for (const std::string& s : v.lost) found("lost", op.key, s);
  for (const std::string& s : v.resurrected) found("resurrected", op.key, s);
}

void CausalCheck::found(const char* kind, const std::string& key, const std::string& value) {
  ++report_.counts[kind];
  if (report_.findings.size() < CausalReport::kFindingsKept) {
    report_.findings.push_back(CausalFinding{kind, line_, key, value});
  }
}

CausalReport CausalCheck::finish() {
  const std::vector<std::string> keys = oracle_.keys();
  report_.keys = keys.size();
  for (const auto& [key, n] : acks_) {
    if (n > 0 && judged_keys_.count(key) == 0) ++report_.keys_unjudged;
  }
  return report_;
}

Result<CausalReport> check_causal_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, path + ": " + std::strerror(errno));
  CausalCheck check;
  std::string text;
  std::uint64_t n = 0;
  while (std::getline(in, text)) {
    ++n;
    if (Status s = check.line(text); !s) {
      return make_error(s.code(), path + ":" + std::to_string(n) + ": " + s.error().what);
    }
  }
  if (in.bad())
    return make_error(Errc::io_error, path + ": read failed after line " + std::to_string(n));
  return check.finish();
}

std::string describe(const CausalReport& r) {
  std::string out;
  for (const auto& [kind, n] : r.counts) out += kind + ": " + std::to_string(n) + "\n";
  for (const CausalFinding& f : r.findings) {
    out += "  line " + std::to_string(f.line) + ": " + f.key + ": " + f.value + " " + f.kind;
    if (f.kind == "lost") out += " (acknowledged, neither read nor in the past of a value read)";
    if (f.kind == "false-sibling") out += " (beside a sibling written knowing it)";
    if (f.kind == "unwritten") out += " (no client wrote it to this key)";
    if (f.kind == "resurrected") out += " (an acknowledged delete superseded it)";
    out += "\n";
  }
  return out;
}

}  // namespace doppel::properties::dvv
