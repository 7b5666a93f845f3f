#pragma once
/// @file
/// What the gateway knows of the client connection an exchange arrived on.

#include <cstdint>
#include <span>
#include <string_view>

namespace gantry::policy {

/// The client certificate of a TLS connection that presented one.
struct client_certificate {
  /// The subject's distinguished name, e.g. "CN=svc-a,O=Example".
  std::string_view subject{};
  /// Subject alternative names (DNS names, URIs, addresses), as written in the certificate.
  std::span<const std::string_view> subject_alt_names{};
  /// SHA-256 of the DER certificate, lowercase hex.
  std::string_view sha256_fingerprint{};
  /// True when it chains to the listener's client CA; a listener that makes client
  /// certificates optional lets unverified ones through for policies to decide on.
  bool verified = false;
};

/// The TLS session of a connection that arrived over TLS.
struct tls_facts {
  std::string_view version{};  ///< "TLSv1.2"
  std::string_view cipher{};   ///< the negotiated suite's IANA name
  std::string_view sni{};      ///< the server name the client asked for; empty if none
  std::string_view alpn{};     ///< the negotiated protocol ("http/1.1"); empty if none
  /// The client's certificate; null when it presented none.
  const client_certificate* peer_certificate = nullptr;
};

/// The client connection's facts: who is connected, on which address, over what. Set by the
/// gateway when the connection is accepted, the same for every exchange on it; the views
/// stay valid while the connection lasts, which outlives each of its exchanges.
///
/// The gateway writes `X-Forwarded-For` and `X-Forwarded-Proto` from them; policies read
/// them to authorize by address or client certificate, and the access log to say who called.
struct downstream_facts {
  /// The client's address, as text ("192.0.2.7", "2001:db8::7"); empty when unknown.
  std::string_view peer_address{};
  std::uint16_t peer_port = 0;
  /// The gateway's address the client connected to, as text.
  std::string_view local_address{};
  std::uint16_t local_port = 0;
  /// "http", or "https" when the connection is TLS.
  std::string_view scheme = "http";
  /// The TLS session; null for a plain connection.
  const tls_facts* tls = nullptr;
};

}  // namespace gantry::policy
