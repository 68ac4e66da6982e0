// Small pieces of the runtime contract that every backend shares.

#include <boost/fiber/context.hpp>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/event.h"
#include "runtime/net.h"
#include "runtime/node.h"
#include "runtime/result.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel {

namespace {
thread_local AssertionHandler g_assertion_handler = nullptr;
}

AssertionHandler set_assertion_handler(AssertionHandler handler) {
  AssertionHandler previous = g_assertion_handler;
  g_assertion_handler = handler;
  return previous;
}

void assertion_failed(const char* expr, const char* file, int line, const char* msg) {
  if (g_assertion_handler != nullptr) g_assertion_handler(expr, file, line, msg);
  std::fprintf(stderr, "doppel: assertion failed: %s%s%s at %s:%d\n", expr, msg ? ": " : "",
               msg ? msg : "", file, line);
  std::abort();
}

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::timed_out:
      return "timed out";
    case Errc::refused:
      return "connection refused";
    case Errc::reset:
      return "connection reset";
    case Errc::closed:
      return "closed";
    case Errc::unreachable:
      return "unreachable";
    case Errc::cancelled:
      return "cancelled";
    case Errc::io_error:
      return "I/O error";
    case Errc::not_found:
      return "not found";
    case Errc::exists:
      return "already exists";
    case Errc::address_in_use:
      return "address in use";
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::no_space:
      return "no space";
    case Errc::too_large:
      return "too large";
    case Errc::corrupt:
      return "corrupt";
    case Errc::protocol:
      return "protocol error";
    case Errc::unsupported:
      return "unsupported";
    case Errc::denied:
      return "denied";
    case Errc::stale:
      return "stale view";
  }
  return "unknown error";
}

std::string Error::message() const {
  std::string out(errc_name(code));
  if (!what.empty()) out += ": " + what;
  return out;
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::debug:
      return "debug";
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "info";
}

std::optional<Severity> parse_severity(std::string_view name) {
  for (Severity s : {Severity::debug, Severity::info, Severity::warning, Severity::error}) {
    if (severity_name(s) == name) return s;
  }
  return std::nullopt;
}

std::string Event::to_string() const {
  std::string out(name_);
  for (int i = 0; i < count_; ++i) {
    const Detail& d = details_[i];
    out += ' ';
    out += d.key;
    out += '=';
    if (d.is_text) {
      out += '"';
      for (char c : d.text) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
      }
      out += '"';
    } else {
      out += std::to_string(d.number);
    }
  }
  return out;
}

std::string Endpoint::to_string() const {
  return host + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return make_error(Errc::invalid_argument,
                      "expected HOST:PORT, got '" + std::string(text) + "'");
  }
  const std::string_view port_text = text.substr(colon + 1);
  std::uint32_t port = 0;
  if (port_text.empty() || port_text.size() > 5) {
    return make_error(Errc::invalid_argument, "bad port in '" + std::string(text) + "'");
  }
  for (char c : port_text) {
    if (c < '0' || c > '9') {
      return make_error(Errc::invalid_argument, "bad port in '" + std::string(text) + "'");
    }
    port = port * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (port > 65535) {
    return make_error(Errc::invalid_argument, "port out of range in '" + std::string(text) + "'");
  }
  return Endpoint{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

bool split_path(std::string_view path, std::string_view& dir, std::string_view& name) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    dir = {};
    name = path;
  } else {
    dir = path.substr(0, slash);
    name = path.substr(slash + 1);
  }
  return true;
}

// --- Waiter and WaitList

void Waiter::unlink() {
  if (list != nullptr) list->remove(*this);
}

void WaitList::push_back(Waiter& w) {
  DOPPEL_ASSERT(w.list == nullptr);
  w.list = this;
  w.prev = tail_;
  w.next = nullptr;
  if (tail_ != nullptr) {
    tail_->next = &w;
  } else {
    head_ = &w;
  }
  tail_ = &w;
}

void WaitList::remove(Waiter& w) {
  DOPPEL_ASSERT(w.list == this);
  if (w.prev != nullptr) {
    w.prev->next = w.next;
  } else {
    head_ = w.next;
  }
  if (w.next != nullptr) {
    w.next->prev = w.prev;
  } else {
    tail_ = w.prev;
  }
  w.list = nullptr;
  w.prev = w.next = nullptr;
}

Waiter* WaitList::pop_front() {
  Waiter* w = head_;
  if (w != nullptr) remove(*w);
  return w;
}

Wake WaitList::wait(Runtime& rt, Instant deadline) {
  Waiter w;
  push_back(w);
  // park() unlinks w on timeout and cancellation; notify unlinks before unpark.
  return rt.park(w, deadline);
}

bool WaitList::notify_one() {
  Waiter* w = pop_front();
  if (w == nullptr) return false;
  unpark(*w);
  return true;
}

void WaitList::notify_all() {
  while (Waiter* w = pop_front()) unpark(*w);
}

void unpark(Waiter& w) {
  if (w.state != Waiter::State::parked) return;
  w.state = Waiter::State::notified;
  w.unlink();
  auto* fiber = static_cast<boost::fibers::context*>(w.fiber);
  boost::fibers::context::active()->schedule(fiber);
}

void Mutex::lock() {
  while (locked_) waiters_.wait(rt_);
  locked_ = true;
}

bool Mutex::try_lock() {
  if (locked_) return false;
  locked_ = true;
  return true;
}

void Mutex::unlock() {
  DOPPEL_ASSERT(locked_);
  locked_ = false;
  waiters_.notify_one();
}

}  // namespace doppel
