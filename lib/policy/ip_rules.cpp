#include "gantry/policy/ip_rules.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "config_errors.hpp"
#include "gantry/core/ascii.hpp"

namespace gantry::policy {
namespace {

// An address as 16 bytes: IPv4 as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so that one
// comparison serves both families and a dual-stack listener's IPv4 peers match IPv4 rules.
using address = std::array<std::uint8_t, 16>;

constexpr std::size_t mapped_prefix = 96;  // the bits of ::ffff: before an IPv4 address

// Parses "192.0.2.7", "2001:db8::7" or "fe80::1%eth0" (the zone is not part of the address)
// without allocating. Sets `v4` when it was written as an IPv4 address.
std::optional<address> parse_address(std::string_view text, bool* v4 = nullptr) {
  text = core::trim_ows(text);
  if (const auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  std::array<char, INET6_ADDRSTRLEN + 1> c_text{};
  if (text.empty() || text.size() >= c_text.size()) return std::nullopt;
  std::memcpy(c_text.data(), text.data(), text.size());
  address a{};
  std::array<std::uint8_t, 4> v4_bytes{};
  const bool is_v4 = inet_pton(AF_INET, c_text.data(), v4_bytes.data()) == 1;
  if (is_v4) {
    a[10] = a[11] = 0xff;
    std::copy(v4_bytes.begin(), v4_bytes.end(), a.begin() + 12);
  } else if (inet_pton(AF_INET6, c_text.data(), a.data()) != 1) {
    return std::nullopt;
  }
  if (v4 != nullptr) *v4 = is_v4;
  return a;
}

struct network {
  address base{};
  std::size_t prefix = 128;  // bits, over the 16-byte form

  bool holds(const address& a) const noexcept {
    const std::size_t whole = prefix / 8;
    if (std::memcmp(a.data(), base.data(), whole) != 0) return false;
    const std::size_t rest = prefix % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a[whole] & mask) == (base[whole] & mask);
  }
};

// "10.0.0.0/8", "2001:db8::/32", "192.0.2.7"; the reason it is not a network otherwise.
std::optional<network> parse_network(std::string_view text, std::string& why) {
  const auto slash = text.find('/');
  bool v4 = false;
  const auto base = parse_address(text.substr(0, slash), &v4);
  if (!base || text.substr(0, slash).find('%') != std::string_view::npos) {
    why = fmt::format("'{}' is not an address or a network (CIDR, e.g. 10.0.0.0/8)", text);
    return std::nullopt;
  }
  network n{.base = *base, .prefix = 128};
  const std::size_t family_bits = v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    std::size_t bits = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
        bits > family_bits) {
      why = fmt::format("'{}': the prefix length must be 0 to {}", text, family_bits);
      return std::nullopt;
    }
    n.prefix = v4 ? mapped_prefix + bits : bits;
  }
  // Bits past the prefix are not part of the network: 10.1.2.3/8 is 10.0.0.0/8.
  for (std::size_t bit = n.prefix; bit < 128; ++bit)
    n.base[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return n;
}

bool any_holds(const std::vector<network>& list, const address& a) noexcept {
  return std::any_of(list.begin(), list.end(), [&](const network& n) { return n.holds(a); });
}

}  // namespace

struct ip_rules::data {
  std::vector<network> allow;
  std::vector<network> deny;
  std::vector<network> trusted_proxies;

  // The client's address: the peer's, or, behind trusted proxies, from X-Forwarded-For.
  // Empty when it cannot be placed.
  std::optional<address> client_of(const exchange& ex) const {
    const auto peer = parse_address(ex.downstream.peer_address);
    if (!peer || trusted_proxies.empty() || !any_holds(trusted_proxies, *peer)) return peer;
    // Read right to left, the first entry that is not a trusted proxy is the client; when
    // every entry is one, the first entry. Read here left to right: the last such entry.
    bool any_entry = false;
    bool any_untrusted = false;
    std::optional<address> first;
    std::optional<address> client;  // empty: that entry is not an address
    for (http::field f : ex.request.fields) {
      if (!core::iequals(f.name, "X-Forwarded-For")) continue;
      core::for_each_list_element(f.value, [&](std::string_view entry) {
        const auto a = parse_address(entry);
        if (!any_entry) first = a;
        any_entry = true;
        if (!a || !any_holds(trusted_proxies, *a)) {
          any_untrusted = true;
          client = a;
        }
        return true;
      });
    }
    if (any_untrusted) return client;
    return any_entry ? first : peer;
  }
};

ip_rules::ip_rules(ip_rules_config config) {
  detail::config_errors errors{"ip_rules"};
  auto d = std::make_shared<data>();
  auto read = [&](const std::vector<std::string>& texts, std::string_view field,
                  std::vector<network>& out) {
    for (std::size_t i = 0; i < texts.size(); ++i) {
      std::string why;
      if (auto n = parse_network(texts[i], why))
        out.push_back(*n);
      else
        errors.add(fmt::format("{}[{}]", field, i), why);
    }
  };
  read(config.allow, "allow", d->allow);
  read(config.deny, "deny", d->deny);
  read(config.trusted_proxies, "trusted_proxies", d->trusted_proxies);
  errors.throw_if_any();
  data_ = std::move(d);
}

verdict ip_rules::on_request_head(exchange& ex) const {
  const data& d = *data_;
  const auto client = d.client_of(ex);
  const bool refused =
      !client || any_holds(d.deny, *client) || (!d.allow.empty() && !any_holds(d.allow, *client));
  if (!refused) return verdict::continue_;
  return ex.respond(http::status::forbidden, refusal_body, "application/problem+json");
}

}  // namespace gantry::policy
