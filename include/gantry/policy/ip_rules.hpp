#pragma once
/// @file
/// The ip-rules policy: allows or refuses clients by address, with CIDR allow and deny lists
/// for IPv4 and IPv6, and trusted proxies whose `X-Forwarded-For` names the client.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/policy/exchange.hpp"
#include "gantry/policy/verdict.hpp"

namespace gantry::policy {

class ip_rules;

/// Configuration of `ip_rules`. Each entry is a network in CIDR notation ("10.0.0.0/8",
/// "2001:db8::/32") or one address ("192.0.2.7", "::1").
struct ip_rules_config {
  using policy_type = ip_rules;

  /// The clients that may call; empty: every client `deny` does not name.
  std::vector<std::string> allow{};
  /// The clients refused, whatever `allow` says.
  std::vector<std::string> deny{};
  /// Proxies in front of the gateway (load balancers, CDNs) whose `X-Forwarded-For` is
  /// believed. When the peer is one of them, the client is the last address of
  /// `X-Forwarded-For` that is not one of them (or its first, when all are); an entry there
  /// that is not an address is a client that cannot be placed, and is refused. Empty: the
  /// peer is the client, and `X-Forwarded-For` is ignored (anyone can write it).
  std::vector<std::string> trusted_proxies{};
};

/// Refuses in the request head phase a client that a `deny` network holds, or that no
/// `allow` network holds when there are some: 403 with an RFC 9457 problem body
/// (`application/problem+json`). An IPv4 client reaching a dual-stack listener (as
/// "::ffff:192.0.2.7") is matched against IPv4 networks.
///
/// ```
/// chain.add(gantry::policy::ip_rules_config{.allow = {"10.0.0.0/8", "2001:db8::/32"},
///                                           .deny = {"10.9.0.0/16"},
///                                           .trusted_proxies = {"10.0.0.2"}});
/// ```
///
/// The lists are scanned in order (no per-request allocation): meant for tens of networks,
/// not for blocklists of thousands.
class ip_rules {
 public:
  using config = ip_rules_config;

  /// Parses every network; throws `std::invalid_argument` naming each one that is not a
  /// network ("allow[1]: ...").
  explicit ip_rules(ip_rules_config config);

  verdict on_request_head(exchange& ex) const;

  /// The body of a refusal.
  static constexpr std::string_view refusal_body =
      R"({"type":"about:blank","title":"Forbidden","status":403,)"
      R"("detail":"The client's address may not call this API."})";

 private:
  struct data;
  std::shared_ptr<const data> data_;
};

}  // namespace gantry::policy
