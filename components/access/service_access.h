#pragma once
// The access settings an HTTP service of ours shares (dedup, DVV), read from its table:
//
//   users_file = "/etc/doppel/dedup.htpasswd"   # htpasswd, bcrypt (htpasswd -B): every request
//                                               # then needs a user's credentials (HTTP Basic)
//   tls_cert_file = "server.pem"                # HTTPS: the certificate (and intermediates),
//   tls_key_file = "server.key"                 # and its key, PEM
//   tls_ca_file = "ca.pem"                      # DVV: the CAs peers' certificates are checked by
//   insecure = false                            # serve in the clear on a non-loopback address
//
// Without TLS, credentials and data cross the network in the clear: a listen address other
// than loopback then needs insecure = true (behind a TLS-terminating proxy, or a private
// network).

#include <memory>
#include <optional>
#include <string>

#include "base/toml.h"
#include "components/access/users.h"
#include "runtime/net.h"

namespace doppel::access {

struct ServiceAccess {
  std::shared_ptr<const Users> users;  // nullptr: no users_file, the service is open
  bool insecure = false;
  std::optional<TlsServerKeys> tls;  // tls_cert_file and tls_key_file, read
  std::string tls_ca_pem;            // tls_ca_file, read ("": the system's CAs)
};

// users_file, the TLS files (read through `read`) and insecure; errors go to `f`.
ServiceAccess read_service_access(TomlFields& f, const FileReader& read);

// Whether `listen` may serve with these settings (a non-loopback address needs TLS or insecure).
// `table` names the settings table in the error ("dedup").
Status check_listen(const Endpoint& listen, const ServiceAccess& access, std::string_view table);

bool is_loopback(const Endpoint& at);

}  // namespace doppel::access
