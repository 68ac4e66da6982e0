#pragma once
// TLS for the real runtime's streams, through OpenSSL (net.h's TlsServerKeys, TlsClientTrust).
// A TLS stream wraps a plain one and drives OpenSSL over memory BIOs: the bytes OpenSSL wants
// to send are written to the plain stream, the bytes read from it are fed to OpenSSL, so the
// reactor (epoll or io_uring) does all the waiting and the fibers never block a core.
//
// One fiber may read while another writes (the DVV RPC client does): the bytes OpenSSL
// produces go out under a fiber mutex, in the order it produced them, and reads of the plain
// stream are one fiber's at a time.

#include <memory>
#include <string>

#include "runtime/net.h"
#include "runtime/runtime.h"

namespace doppel::real {

// An OpenSSL context (SSL_CTX): certificates loaded once, shared by the streams made with it.
class TlsContext;

Result<std::shared_ptr<TlsContext>> tls_server_context(const TlsServerKeys& keys);
Result<std::shared_ptr<TlsContext>> tls_client_context(const TlsClientTrust& trust);

// The server's end of `inner`: the handshake happens on the first read or write.
std::unique_ptr<Stream> tls_accepted(Runtime& rt, std::shared_ptr<TlsContext> context,
                                     std::unique_ptr<Stream> inner);
// The client's end of `inner`, the handshake done by `deadline` and the server's certificate
// verified for `server_name`.
Result<std::unique_ptr<Stream>> tls_connected(Runtime& rt, std::shared_ptr<TlsContext> context,
                                              std::unique_ptr<Stream> inner,
                                              const std::string& server_name, Instant deadline);
// Every stream `inner` accepts, as tls_accepted().
std::unique_ptr<Listener> tls_listener(Runtime& rt, std::shared_ptr<TlsContext> context,
                                       std::unique_ptr<Listener> inner);

}  // namespace doppel::real
