#include "tls_session.hpp"

#include <fmt/format.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <array>
#include <new>
#include <stdexcept>

namespace gantry::net {

tls_session::tls_session(std::shared_ptr<const tls_context> ctx, std::string_view server_name)
    : context{std::move(ctx)} {
  mbedtls_ssl_init(&ssl);
  if (mbedtls_ssl_setup(&ssl, context->config()) != 0) {
    mbedtls_ssl_free(&ssl);
    throw std::bad_alloc{};
  }
  if (!context->is_server()) {
    const std::string name{server_name.empty() ? std::string_view{context->server_name()}
                                               : server_name};
    // Without a name, mbedTLS 2.28 accepts any certificate its CAs signed (CVE-2025-27809):
    // a verifying client always has one.
    if (name.empty() && context->verifies()) {
      mbedtls_ssl_free(&ssl);
      throw std::invalid_argument("TLS to a server needs its name to verify its certificate");
    }
    if (mbedtls_ssl_set_hostname(&ssl, name.empty() ? nullptr : name.c_str()) != 0) {
      mbedtls_ssl_free(&ssl);
      throw std::bad_alloc{};
    }
  }
}

tls_session::~tls_session() { mbedtls_ssl_free(&ssl); }

void tls_session::record_facts() {
  facts.version = mbedtls_ssl_get_version(&ssl);
  // mbedTLS names suites with dashes; the IANA names of these suites have underscores.
  cipher_name = mbedtls_ssl_get_ciphersuite(&ssl);
  std::replace(cipher_name.begin(), cipher_name.end(), '-', '_');
  facts.cipher = cipher_name;
  facts.sni = sni;
  if (const char* alpn = mbedtls_ssl_get_alpn_protocol(&ssl)) facts.alpn = alpn;
  const mbedtls_x509_crt* cert = mbedtls_ssl_get_peer_cert(&ssl);
  if (cert == nullptr) return;
  std::array<char, 512> dn{};
  if (mbedtls_x509_dn_gets(dn.data(), dn.size(), &cert->subject) > 0) peer_subject = dn.data();
  std::array<unsigned char, 32> digest{};
  mbedtls_sha256_ret(cert->raw.p, cert->raw.len, digest.data(), 0);
  peer_fingerprint.clear();
  for (unsigned char byte : digest) fmt::format_to(std::back_inserter(peer_fingerprint), "{:02x}", byte);
  peer_names = dns_names_of(*cert);
  peer_name_views.assign(peer_names.begin(), peer_names.end());
  peer.subject = peer_subject;
  peer.subject_alt_names = peer_name_views;
  peer.sha256_fingerprint = peer_fingerprint;
  peer.verified = mbedtls_ssl_get_verify_result(&ssl) == 0;
  facts.peer_certificate = &peer;
}

}  // namespace gantry::net
