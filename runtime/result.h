#pragma once
// Errors are values. Every operation that can fail for operating reasons (a
// refused connection, a missing file, a timeout) returns Result<T>; invariant
// violations are assertions (runtime/assert.h), never results.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "runtime/assert.h"

namespace doppel {

enum class Errc : std::uint8_t {
  timed_out,
  refused,      // nobody listens there
  reset,        // the peer or the network reset the connection
  closed,       // the local end was closed
  unreachable,  // no route to the host
  cancelled,    // the node is stopping or crashed
  io_error,     // EIO and friends
  not_found,
  exists,
  address_in_use,
  invalid_argument,
  no_space,
  too_large,  // over a configured limit
  corrupt,    // data failed a checksum or a format check
  protocol,   // the peer spoke something we do not understand
  unsupported,
  denied,  // the peer refused who we are or what we may do (credentials, a role)
  stale,   // the peer refused because the asker's view is older than its own (a ring)
};

std::string_view errc_name(Errc code);

struct Error {
  Errc code;
  std::string what;  // short context: the path, the endpoint, the limit

  std::string message() const;
};

inline Error make_error(Errc code, std::string what = {}) {
  return Error{code, std::move(what)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    DOPPEL_ASSERT(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    DOPPEL_ASSERT(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    DOPPEL_ASSERT(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    DOPPEL_ASSERT(!ok());
    return std::get<1>(v_);
  }
  Errc code() const { return error().code; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    DOPPEL_ASSERT(!ok_);
    return error_;
  }
  Errc code() const { return error().code; }

 private:
  Error error_{Errc::io_error, {}};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace doppel
