#include "gantry/policy/ip_rules.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "gantry/policy/chain.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/runner.hpp"

using gantry::http::status;
using gantry::policy::chain;
using gantry::policy::ip_rules;
using gantry::policy::ip_rules_config;
using gantry::testing::exchange_builder;

namespace {

// Whether a request from `peer`, with these X-Forwarded-For fields, reaches the upstream;
// a refusal is checked to be the 403 problem.
bool passes(const ip_rules_config& config, std::string peer,
            const std::vector<std::string>& forwarded_for = {}) {
  chain c;
  c.add(config);
  exchange_builder b;
  for (const auto& value : forwarded_for) b.header("X-Forwarded-For", value);
  auto ex = b.build();
  ex->downstream.peer_address = peer;
  auto r = gantry::testing::run(c, ex, {.status = status::ok, .headers = {}, .body = {"up"}});
  if (r.forwarded) return true;
  CHECK(r.response.status == status::forbidden);
  CHECK(r.response.fields.get("Content-Type") == "application/problem+json");
  CHECK(r.body == ip_rules::refusal_body);
  return false;
}

}  // namespace

TEST_CASE("policy ip_rules: allow and deny lists, deny first") {
  const ip_rules_config config{.allow = {"10.0.0.0/8", "192.0.2.7"}, .deny = {"10.9.0.0/16"}};
  CHECK(passes(config, "10.1.2.3"));
  CHECK(passes(config, "192.0.2.7"));
  CHECK_FALSE(passes(config, "192.0.2.8"));
  CHECK_FALSE(passes(config, "10.9.8.7"));  // allowed by /8, denied by /16
  CHECK_FALSE(passes(config, "11.0.0.1"));
  CHECK_FALSE(passes(config, "2001:db8::1"));  // not in any IPv4 network
  CHECK_FALSE(passes(config, ""));             // a client that cannot be placed
  // No allow list: every client the deny list does not name.
  CHECK(passes({.deny = {"10.9.0.0/16"}}, "203.0.113.1"));
  CHECK_FALSE(passes({.deny = {"10.9.0.0/16"}}, "10.9.0.1"));
  CHECK(passes({}, "203.0.113.1"));
}

TEST_CASE("policy ip_rules: prefixes that end inside a byte, IPv6, zones and dual stack") {
  const ip_rules_config v4{.allow = {"10.0.0.0/9"}};
  CHECK(passes(v4, "10.127.255.255"));
  CHECK_FALSE(passes(v4, "10.128.0.0"));
  // Bits past the prefix are ignored: 10.1.2.3/8 is 10.0.0.0/8.
  CHECK(passes({.allow = {"10.1.2.3/8"}}, "10.200.0.1"));

  const ip_rules_config v6{.allow = {"2001:db8::/33", "fe80::/10"}};
  CHECK(passes(v6, "2001:db8:7fff:ffff::1"));
  CHECK_FALSE(passes(v6, "2001:db8:8000::1"));
  CHECK(passes(v6, "fe80::1%eth0"));  // a link-local peer, with its zone
  CHECK_FALSE(passes(v6, "10.0.0.1"));

  // An IPv4 client of a dual-stack listener, and IPv4 rules.
  CHECK(passes({.allow = {"10.0.0.0/8"}}, "::ffff:10.1.2.3"));
  CHECK_FALSE(passes({.deny = {"10.0.0.0/8"}}, "::ffff:10.1.2.3"));
  // The family's whole range: 0.0.0.0/0 is every IPv4 address, ::/0 every address.
  CHECK(passes({.allow = {"0.0.0.0/0"}}, "198.51.100.1"));
  CHECK_FALSE(passes({.allow = {"0.0.0.0/0"}}, "2001:db8::1"));
  CHECK(passes({.allow = {"::/0"}}, "2001:db8::1"));
  CHECK(passes({.allow = {"::/0"}}, "198.51.100.1"));
}

TEST_CASE("policy ip_rules: X-Forwarded-For names the client only behind trusted proxies") {
  const ip_rules_config config{.deny = {"203.0.113.0/24"}, .trusted_proxies = {"10.0.0.0/24"}};
  // From a trusted proxy: the last entry that is not one is the client.
  CHECK_FALSE(passes(config, "10.0.0.2", {"203.0.113.9, 10.0.0.3"}));
  CHECK(passes(config, "10.0.0.2", {"198.51.100.4, 10.0.0.3"}));
  // What the client itself wrote, left of its own address, is not believed.
  CHECK_FALSE(passes(config, "10.0.0.2", {"198.51.100.4, 203.0.113.9"}));
  // Several fields are one list, in order.
  CHECK_FALSE(passes(config, "10.0.0.2", {"198.51.100.4", "203.0.113.9", "10.0.0.3"}));
  // Every entry a trusted proxy: the first one; no entry: the proxy itself.
  CHECK(passes(config, "10.0.0.2", {"10.0.0.7, 10.0.0.3"}));
  CHECK(passes(config, "10.0.0.2"));
  // An entry that is not an address where the client should be: refused.
  CHECK_FALSE(passes(config, "10.0.0.2", {"198.51.100.4, unknown"}));
  CHECK(passes(config, "10.0.0.2", {"unknown, 198.51.100.4"}));
  // From anyone else, X-Forwarded-For is ignored: anyone can write it.
  CHECK(passes(config, "198.51.100.4", {"203.0.113.9"}));
  CHECK_FALSE(passes(config, "203.0.113.9", {"198.51.100.4"}));
  // Without trusted proxies, the peer is the client.
  CHECK_FALSE(passes({.deny = {"203.0.113.0/24"}}, "203.0.113.9", {"198.51.100.4"}));
}

TEST_CASE("policy ip_rules: what is not a network is named by field") {
  try {
    ip_rules{{.allow = {"10.0.0.0/8", "10.0.0.0/33"},
              .deny = {"example.com", "2001:db8::/129", "10.0.0.0/"},
              .trusted_proxies = {"fe80::1%eth0/64"}}};
    FAIL("accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string{e.what()} ==
          "ip_rules policy: allow[1]: '10.0.0.0/33': the prefix length must be 0 to 32; "
          "deny[0]: 'example.com' is not an address or a network (CIDR, e.g. 10.0.0.0/8); "
          "deny[1]: '2001:db8::/129': the prefix length must be 0 to 128; "
          "deny[2]: '10.0.0.0/': the prefix length must be 0 to 32; "
          "trusted_proxies[0]: 'fe80::1%eth0/64' is not an address or a network (CIDR, e.g. "
          "10.0.0.0/8)");
  }
}
