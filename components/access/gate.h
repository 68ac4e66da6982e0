#pragma once
// The door of an HTTP service with users: each request must carry HTTP Basic credentials
// (RFC 7617) of a user in the table, or it is answered 401 with a WWW-Authenticate field (so
// curl, browsers and Prometheus know to send them). What a user may do once in is the
// service's business (403): the gate only says who it is, in request.user.
//
//   Gate gate(rt, users, "doppel-dedup");
//   HttpServer server(rt, at, gate.guard(router.handler()));
//
// Without users (nullptr) the door is open: every request comes in as user "".
//
// A password proven once is remembered per core (its SHA-256, next to the user's name), so
// bcrypt runs once per user and core rather than per request; a different password runs it
// again (and replaces the memory when it is right).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "components/access/users.h"
#include "components/http/message.h"
#include "runtime/runtime.h"

namespace doppel::access {

class Gate {
 public:
  static constexpr std::size_t kCredentialBytesMax = 1024;  // the Authorization field's value

  Gate(Runtime& rt, std::shared_ptr<const Users> users, std::string realm);

  bool open() const { return users_ == nullptr; }
  // `inner` behind the door. The gate must outlive the handler.
  http::Handler guard(http::Handler inner);
  // nullopt: admitted, request.user set. Otherwise the answer (401).
  std::optional<http::Response> admit(http::Request& request);

 private:
  http::Response refuse(std::string_view why) const;

  Runtime& rt_;
  std::shared_ptr<const Users> users_;
  std::string realm_;
  std::vector<std::map<std::string, std::string, std::less<>>> proven_;  // per core
};

// The user and password of an "Authorization: Basic ..." field; nullopt when the field is
// missing, of another scheme, not base64, or without the ':'.
struct Credentials {
  std::string user, password;
};
std::optional<Credentials> basic_credentials(const http::Headers& headers);

// The field a client sends: "Basic " + base64("user:password").
std::string basic_authorization(std::string_view user, std::string_view password);

}  // namespace doppel::access
