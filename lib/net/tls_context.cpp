#include "tls_context.hpp"

#include <fmt/format.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <array>
#include <new>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "gantry/core/ascii.hpp"
#include "tls_error.hpp"
#include "tls_session.hpp"

namespace gantry::net {
namespace {

// ECDHE only (forward secrecy), AEAD only; ECDSA first, as it is the faster signature.
constexpr std::array<int, 7> cipher_suites{
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};
constexpr std::array<mbedtls_ecp_group_id, 4> curves{
    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE};

// How long a session stays resumable, from the cache or from a ticket (NGINX: 5 min for its
// cache; tickets here rotate their key each period, and the previous key still decrypts).
constexpr int session_lifetime_seconds = 24 * 60 * 60;
constexpr int session_cache_entries = 10'000;

// One problem per line, each naming its field.
class problems {
 public:
  void add(std::string_view field, std::string_view why) {
    if (!text_.empty()) text_.push_back('\n');
    text_.append(field).append(": ").append(why);
  }
  void add_mbedtls(std::string_view field, std::string_view what, int ret) {
    if (ret == MBEDTLS_ERR_PK_FILE_IO_ERROR || ret == MBEDTLS_ERR_X509_FILE_IO_ERROR)
      add(field, fmt::format("{}: cannot read the file", what));
    else
      add(field, fmt::format("{}: {}", what, tls_error(ret).message()));
  }
  bool empty() const noexcept { return text_.empty(); }
  void throw_if_any() const {
    if (!text_.empty()) throw std::invalid_argument(text_);
  }

 private:
  std::string text_;
};

// The DNS names a certificate is for: its subjectAltName DNS entries, else its CN.
std::vector<std::string> names_of(const mbedtls_x509_crt& crt) {
  std::vector<std::string> names = dns_names_of(crt);
  if (!names.empty()) return names;
  for (const mbedtls_x509_name* n = &crt.subject; n != nullptr; n = n->next)
    if (n->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
      names.emplace_back(reinterpret_cast<const char*>(n->val.p), n->val.len);
  return names;
}

// "*.example.com" covers exactly one more label: "a.example.com", not "example.com" or
// "a.b.example.com".
bool wildcard_covers(std::string_view pattern, std::string_view name) noexcept {
  if (!pattern.starts_with("*.")) return false;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (name.size() <= suffix.size()) return false;
  const std::string_view label = name.substr(0, name.size() - suffix.size());
  return label.find('.') == std::string_view::npos &&
         core::iequals(name.substr(label.size()), suffix);
}

}  // namespace

std::vector<std::string> dns_names_of(const mbedtls_x509_crt& crt) {
  std::vector<std::string> names;
  for (const mbedtls_x509_sequence* s = &crt.subject_alt_names; s != nullptr && s->buf.p != nullptr;
       s = s->next) {
    mbedtls_x509_subject_alternative_name san{};
    if (mbedtls_x509_parse_subject_alt_name(&s->buf, &san) == 0 &&
        san.type == MBEDTLS_X509_SAN_DNS_NAME)
      names.emplace_back(reinterpret_cast<const char*>(san.san.unstructured_name.p),
                         san.san.unstructured_name.len);
  }
  return names;
}

struct tls_context::impl {
  struct served {
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
    std::vector<std::string> names;
    served() {
      mbedtls_x509_crt_init(&chain);
      mbedtls_pk_init(&key);
    }
    ~served() {
      mbedtls_x509_crt_free(&chain);
      mbedtls_pk_free(&key);
    }
    served(const served&) = delete;
    served& operator=(const served&) = delete;
  };

  impl() {
    mbedtls_ssl_config_init(&config);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&random);
    mbedtls_x509_crt_init(&ca);
    mbedtls_ssl_cache_init(&cache);
    mbedtls_ssl_ticket_init(&tickets);
  }
  ~impl() {
    mbedtls_ssl_config_free(&config);
    mbedtls_ssl_ticket_free(&tickets);
    mbedtls_ssl_cache_free(&cache);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&random);
    mbedtls_entropy_free(&entropy);
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  // The certificate for the name a client asked for: an exact name, then a wildcard; null
  // when none matches.
  const served* match(std::string_view name) const noexcept {
    for (const auto& c : certificates)
      for (const std::string& n : c->names)
        if (core::iequals(n, name)) return c.get();
    for (const auto& c : certificates)
      for (const std::string& n : c->names)
        if (wildcard_covers(n, name)) return c.get();
    return nullptr;
  }

  static int on_sni(void* self, mbedtls_ssl_context* ssl, const unsigned char* name,
                    std::size_t size) {
    const std::string_view asked{reinterpret_cast<const char*>(name), size};
    // The BIO context is the connection's tls_session (tls_stream sets it so).
    static_cast<tls_session*>(ssl->p_bio)->sni.assign(asked);
    const impl& context = *static_cast<const impl*>(self);
    const served* pick = context.match(asked);
    // mbedTLS answers a refusal with an unrecognized_name alert.
    if (pick == nullptr) return context.strict_sni ? -1 : 0;  // else the default certificate
    return mbedtls_ssl_set_hs_own_cert(ssl, const_cast<mbedtls_x509_crt*>(&pick->chain),
                                       const_cast<mbedtls_pk_context*>(&pick->key));
  }

  // Seeds the generator; a failure is reported against `field`.
  void seed(problems& errors) {
    static constexpr std::string_view personal = "gantry tls";
    if (int ret = mbedtls_ctr_drbg_seed(&random, mbedtls_entropy_func, &entropy,
                                        reinterpret_cast<const unsigned char*>(personal.data()),
                                        personal.size()))
      errors.add_mbedtls("tls", "cannot seed the random generator", ret);
  }

  // Reads one certificate chain and its key; false after reporting.
  bool load(const tls_certificate& files, served& into, const std::string& field,
            problems& errors) {
    bool ok = true;
    if (files.cert.empty()) {
      errors.add(field + ".cert", "required");
      ok = false;
    } else if (int ret = mbedtls_x509_crt_parse_file(&into.chain, files.cert.c_str()); ret < 0) {
      errors.add_mbedtls(field + ".cert", files.cert, ret);
      ok = false;
    } else if (ret > 0) {  // mbedTLS counts the certificates it could not parse
      errors.add(field + ".cert",
                 fmt::format("{}: {} of its certificates do not parse", files.cert, ret));
      ok = false;
    }
    if (files.key.empty()) {
      errors.add(field + ".key", "required");
      ok = false;
    } else if (int ret = mbedtls_pk_parse_keyfile(&into.key, files.key.c_str(), nullptr)) {
      errors.add_mbedtls(field + ".key", files.key, ret);
      ok = false;
    }
    if (ok && mbedtls_pk_check_pair(&into.chain.pk, &into.key) != 0) {
      errors.add(field + ".key",
                 fmt::format("{} is not the key of the certificate in {}", files.key,
                             files.cert));
      ok = false;
    }
    if (ok) {
      sign_on_own_group(into.key);
      warn_if_out_of_date(into.chain, field + ".cert", files.cert);
    }
    return ok;
  }

  // A certificate of the chain that is expired or not valid yet is served all the same (a
  // renewal may be on its way), and said.
  void warn_if_out_of_date(const mbedtls_x509_crt& chain, const std::string& field,
                           const std::string& file) {
    auto date = [](const mbedtls_x509_time& t) {
      return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", t.year, t.mon, t.day, t.hour,
                         t.min, t.sec);
    };
    for (const mbedtls_x509_crt* c = &chain; c != nullptr && c->raw.p != nullptr; c = c->next) {
      const std::vector<std::string> names = names_of(*c);
      const std::string which = names.empty() ? std::string{"a certificate"}
                                              : fmt::format("the certificate for {}", names[0]);
      if (mbedtls_x509_time_is_past(&c->valid_to))
        warnings.push_back(fmt::format("{}: {}: {} expired on {}; clients will refuse it", field,
                                       file, which, date(c->valid_to)));
      else if (mbedtls_x509_time_is_future(&c->valid_from))
        warnings.push_back(fmt::format("{}: {}: {} is not valid before {}; clients will refuse it",
                                       field, file, which, date(c->valid_from)));
    }
  }

  // An EC key signs on a copy of its group, so mbedTLS builds the table of multiples of the
  // generator again for every signature (a third of a full handshake). As an ECDSA key it
  // signs on its own group, which keeps the table after the first signature: made here,
  // before workers share the key, so that handshakes only read it.
  void sign_on_own_group(mbedtls_pk_context& key) {
    if (mbedtls_pk_get_type(&key) != MBEDTLS_PK_ECKEY) return;
    mbedtls_pk_context ecdsa;
    mbedtls_pk_init(&ecdsa);
    if (mbedtls_pk_setup(&ecdsa, mbedtls_pk_info_from_type(MBEDTLS_PK_ECDSA)) != 0 ||
        mbedtls_ecdsa_from_keypair(static_cast<mbedtls_ecdsa_context*>(ecdsa.pk_ctx),
                                   mbedtls_pk_ec(key)) != 0) {
      mbedtls_pk_free(&ecdsa);
      return;  // the key signs as it is, only slower
    }
    mbedtls_pk_free(&key);
    key = ecdsa;  // the context owns what it points to: ownership moves with the copy
    const std::array<unsigned char, 32> digest{};
    std::array<unsigned char, MBEDTLS_PK_SIGNATURE_MAX_SIZE> signature{};
    std::size_t size = 0;
    mbedtls_pk_sign(&key, MBEDTLS_MD_SHA256, digest.data(), digest.size(), signature.data(),
                    &size, mbedtls_ctr_drbg_random, &random);
  }

  // A CA bundle: certificates mbedTLS cannot parse (a system bundle has a few) are skipped,
  // as long as one parses.
  void load_ca(const std::string& file, const std::string& field, problems& errors) {
    const int ret = mbedtls_x509_crt_parse_file(&ca, file.c_str());
    if (ret < 0)
      errors.add_mbedtls(field, file, ret);
    else if (ca.raw.p == nullptr)
      errors.add(field, file + ": no certificate in it parses");
  }

  void offer_alpn(const std::vector<std::string>& protocols, problems& errors) {
    alpn = protocols;
    for (const std::string& p : alpn) {
      if (p.empty() || p.size() > 255) errors.add("alpn", "a protocol name has 1 to 255 bytes");
      alpn_list.push_back(p.c_str());
    }
    alpn_list.push_back(nullptr);
    if (!alpn.empty()) mbedtls_ssl_conf_alpn_protocols(&config, alpn_list.data());
  }

  // What both sides share: mbedTLS's defaults for `endpoint`, the random generator, and the
  // protocol: TLS 1.2 and up, ECDHE with AEAD suites, these curves, no renegotiation, ALPN.
  void configure(int endpoint, const std::vector<std::string>& protocols, problems& errors) {
    if (int ret = mbedtls_ssl_config_defaults(&config, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                              MBEDTLS_SSL_PRESET_DEFAULT))
      errors.add_mbedtls("tls", "cannot set defaults", ret);
    seed(errors);
    mbedtls_ssl_conf_rng(&config, mbedtls_ctr_drbg_random, &random);
    mbedtls_ssl_conf_min_version(&config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&config, cipher_suites.data());
    mbedtls_ssl_conf_curves(&config, curves.data());
    mbedtls_ssl_conf_renegotiation(&config, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    offer_alpn(protocols, errors);
  }

  bool is_server = false;
  bool verify = false;
  bool strict_sni = false;
  std::vector<std::string> warnings;
  std::string server_name;
  mbedtls_ssl_config config;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context random;
  std::vector<std::unique_ptr<served>> certificates;
  mbedtls_x509_crt ca;
  mbedtls_ssl_cache_context cache;
  mbedtls_ssl_ticket_context tickets;
  std::vector<std::string> alpn;
  std::vector<const char*> alpn_list;  // views of `alpn`, null-terminated, as mbedTLS wants
};

std::shared_ptr<const tls_context> tls_context::server(const tls_server_settings& settings) {
  auto i = std::make_unique<impl>();
  i->is_server = true;
  problems errors;
  mbedtls_ssl_config& c = i->config;
  i->configure(MBEDTLS_SSL_IS_SERVER, settings.alpn, errors);

  if (settings.certificates.empty()) errors.add("certificates", "at least one is required");
  for (std::size_t n = 0; n < settings.certificates.size(); ++n) {
    auto served = std::make_unique<impl::served>();
    if (i->load(settings.certificates[n], *served, fmt::format("certificates[{}]", n), errors)) {
      served->names = names_of(served->chain);
      i->certificates.push_back(std::move(served));
    }
  }
  i->strict_sni = settings.strict_sni;
  // Strict: no default certificate, so a client without SNI finds none to be served.
  if (!i->certificates.empty() && !settings.strict_sni) {
    impl::served& first = *i->certificates.front();
    if (int ret = mbedtls_ssl_conf_own_cert(&c, &first.chain, &first.key))
      errors.add_mbedtls("certificates[0]", "cannot serve it", ret);
  }
  mbedtls_ssl_conf_sni(&c, &impl::on_sni, i.get());

  if (settings.client_certificates != client_certificate_mode::off) {
    if (settings.client_ca.empty())
      errors.add("client_ca", "required when client certificates are asked for");
    else
      i->load_ca(settings.client_ca, "client_ca", errors);
    mbedtls_ssl_conf_ca_chain(&c, &i->ca, nullptr);
  }
  mbedtls_ssl_conf_authmode(&c, settings.client_certificates == client_certificate_mode::required
                                    ? MBEDTLS_SSL_VERIFY_REQUIRED
                                : settings.client_certificates == client_certificate_mode::optional
                                    ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                    : MBEDTLS_SSL_VERIFY_NONE);


  mbedtls_ssl_cache_set_timeout(&i->cache, session_lifetime_seconds);
  mbedtls_ssl_cache_set_max_entries(&i->cache, session_cache_entries);
  mbedtls_ssl_conf_session_cache(&c, &i->cache, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
  if (errors.empty()) {
    if (int ret = mbedtls_ssl_ticket_setup(&i->tickets, mbedtls_ctr_drbg_random, &i->random,
                                           MBEDTLS_CIPHER_AES_256_GCM, session_lifetime_seconds))
      errors.add_mbedtls("tls", "cannot set session tickets up", ret);
    mbedtls_ssl_conf_session_tickets_cb(&c, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
                                        &i->tickets);
  }
  errors.throw_if_any();
  return std::shared_ptr<const tls_context>{new tls_context{std::move(i)}};
}

std::shared_ptr<const tls_context> tls_context::client(const tls_client_settings& settings) {
  auto i = std::make_unique<impl>();
  i->server_name = settings.server_name;
  i->verify = settings.verify;
  problems errors;
  mbedtls_ssl_config& c = i->config;
  i->configure(MBEDTLS_SSL_IS_CLIENT, settings.alpn, errors);
  if (settings.verify) {
    if (settings.ca.empty())
      errors.add("ca", "required to verify the server (or turn verify off)");
    else
      i->load_ca(settings.ca, "ca", errors);
    mbedtls_ssl_conf_ca_chain(&c, &i->ca, nullptr);
  }
  mbedtls_ssl_conf_authmode(&c, settings.verify ? MBEDTLS_SSL_VERIFY_REQUIRED
                                                : MBEDTLS_SSL_VERIFY_NONE);
  const tls_certificate& own = settings.certificate;
  if (!own.cert.empty() || !own.key.empty()) {
    auto served = std::make_unique<impl::served>();
    if (i->load(own, *served, "certificate", errors)) {
      if (int ret = mbedtls_ssl_conf_own_cert(&c, &served->chain, &served->key))
        errors.add_mbedtls("certificate", "cannot present it", ret);
      i->certificates.push_back(std::move(served));
    }
  }
  errors.throw_if_any();
  return std::shared_ptr<const tls_context>{new tls_context{std::move(i)}};
}

tls_context::tls_context(std::unique_ptr<impl> impl) noexcept : impl_{std::move(impl)} {}
tls_context::~tls_context() = default;

const mbedtls_ssl_config* tls_context::config() const noexcept { return &impl_->config; }
bool tls_context::is_server() const noexcept { return impl_->is_server; }
bool tls_context::verifies() const noexcept { return impl_->verify; }
const std::string& tls_context::server_name() const noexcept { return impl_->server_name; }
const std::vector<std::string>& tls_context::warnings() const noexcept { return impl_->warnings; }

}  // namespace gantry::net
