#include "scenarios/dvv/intruder.h"

#include "components/dvv/client/riak_client.h"
#include "components/dvv/store/messages.h"
#include "components/dvv/store/rpc.h"
#include "scenarios/scenario_users.h"

namespace doppel::scenarios {

void DvvIntruder::attempt() {
  Prng& rng = rt_.random();
  switch (rng.below(5)) {
    case 0:
      client_without_access(true, "", "a PUT without credentials");
      break;
    case 1:
      client_without_access(true, authorization_of(kOwner, "not-the-password"),
                            "a PUT with a wrong password");
      break;
    case 2:
      client_without_access(false, "", "a GET without credentials");
      break;
    case 3:
      client_without_access(false, authorization_of(kOwner, "not-the-password"),
                            "a GET with a wrong password");
      break;
    default:
      rogue_peer();
      break;
  }
}

void DvvIntruder::client_without_access(bool write, const std::string& authorization,
                                        const char* who) {
  Prng& rng = rt_.random();
  const auto node = static_cast<std::uint32_t>(rng.below(nodes_));
  const std::string key = "k" + std::to_string(rng.below(keys_));
  http::ClientOptions o;
  o.authorization = authorization;
  dvv::RiakClient client(rt_, http_(node), o);
  http::ClientRequest request;
  request.method = write ? "PUT" : "GET";
  request.target = dvv::object_target(bucket_, key, dvv::Quorum{});
  if (write) {
    request.headers.add("Content-Type", "text/plain");
    request.body = "intruder-" + std::to_string(++sent_);
  }
  const bool anonymous = authorization.empty();
  reached_(write ? (anonymous ? "intrude-put-anonymous" : "intrude-put-wrong-password")
                 : (anonymous ? "intrude-get-anonymous" : "intrude-get-wrong-password"));
  auto r = client.raw(request, rt_.now() + timeout_);
  if (!r) return;  // the transport's error (a partition, a crash) says nothing either way
  if (r->status != 401 && r->status != 408 && r->status < 500) {
    violated_(std::string(who) + " of " + key + " on dvv" + std::to_string(node) +
              " was answered " + std::to_string(r->status) + ", not 401");
  }
}

// As an attacker would: the handshake's first half as the protocol has it, then a proof made
// up (it cannot make the right one), then the request, and whatever comes back is read.
void DvvIntruder::rogue_peer() {
  Prng& rng = rt_.random();
  const auto node = static_cast<std::uint32_t>(rng.below(nodes_));
  const std::string key = "k" + std::to_string(rng.below(keys_));
  dvv::Sibling value;
  value.body = "intruder-" + std::to_string(++sent_);
  value.content_type = "text/plain";
  reached_("intrude-rogue-peer");
  const Instant deadline = rt_.now() + timeout_;
  auto stream = rt_.net().connect(rpc_(node), timeout_);
  if (!stream) return;
  auto send = [&](dvv::Frame f) { return (*stream)->write(dvv::encode_frame(f), deadline); };
  std::string nonce(16, '\0'), buffer;
  for (char& c : nonce) c = static_cast<char>(rng.below(256));
  if (!send({dvv::RpcKind::hello, false, 0, nonce})) return;
  if (!dvv::read_frame(**stream, buffer, deadline)) return;  // the server's hello
  std::string made_up(32, '\0');
  for (char& c : made_up) c = static_cast<char>(rng.below(256));
  if (!send({dvv::RpcKind::hello, false, 1, made_up})) return;
  const std::string request = dvv::encode_coordinate_request(dvv::ObjectKey{bucket_, key}, value,
                                                             std::nullopt, dvv::RequestOptions{});
  if (!send({dvv::RpcKind::coordinate, false, 2, request})) return;
  auto reply = dvv::read_frame(**stream, buffer, deadline);
  (*stream)->close();
  // A reply of any kind means the request was read and served.
  if (reply) {
    violated_("a PUT of " + key + " sent to dvv" + std::to_string(node) +
              " by a peer without the cluster secret was served");
  }
}

}  // namespace doppel::scenarios
