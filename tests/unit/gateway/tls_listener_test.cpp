// Addresses that terminate TLS: the handshake, the exchange's TLS facts, X-Forwarded-Proto,
// certificates renewed by a reload, and connections that never finish a handshake.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "gantry/gateway/gateway.hpp"
#include "gantry/net/tcp_stream.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/metrics_registry.hpp"
#include "net/tls_stream.hpp"
#include "raw_exchange.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gantry::core::use_tuple;
using gantry::testing::test_pki;

namespace {

// Answers with what the exchange knows of its connection's TLS.
struct echo_tls {
  gantry::policy::verdict on_request_head(gantry::policy::exchange& ex) const {
    const auto& d = ex.downstream;
    std::string body{d.scheme};
    if (d.tls != nullptr) {
      body += fmt::format(" {} {} sni={} alpn={}", d.tls->version, d.tls->cipher, d.tls->sni,
                          d.tls->alpn);
      if (const auto* peer = d.tls->peer_certificate)
        body += fmt::format(" peer={} verified={}", peer->subject, peer->verified);
    }
    return ex.respond(gantry::http::status::ok, body, "text/plain");
  }
};

struct pki_files {
  test_pki pki;
  test_pki stranger_ca{"Another CA"};
  test_pki::issued first = pki.issue("first.example.com", {"api.example.com"});
  test_pki::issued renewed = pki.issue("renewed.example.com", {"api.example.com"});
  test_pki::issued client = pki.issue("svc-a", {"svc-a.internal"});
};
const pki_files& files() {
  static const pki_files made;
  return made;
}

gantry::gateway_config tls_config(const test_pki::issued& cert) {
  gantry::gateway_config config;
  config.policies = {{.name = "echo", .chain = gantry::policy::chain{}.add(echo_tls{})}};
  config.listener_policies = {"echo"};
  config.routes = {{.name = "any",
                    .match = {.path = gantry::route::path_prefix{"/"}},
                    .action = gantry::route::direct_response{}}};
  gantry::net::tls_server_settings tls;
  tls.certificates = {{cert.chain.string(), cert.key.string()}};
  tls.client_ca = files().pki.ca().string();
  tls.client_certificates = gantry::net::client_certificate_mode::optional;
  config.tls = {{.name = "public", .settings = tls}};
  return config;
}

struct tls_answer {
  std::error_code handshake;
  std::string server_cn;  // the CN of the certificate the gateway served
  std::string response;
};

// One HTTPS request to `at`, as a client that trusts the test CA and asks for
// api.example.com, with a client certificate when `with_client_cert`.
tls_answer ask(asio::ip::tcp::endpoint at, bool with_client_cert = false) {
  gantry::net::tls_client_settings settings;
  settings.ca = files().pki.ca().string();
  settings.alpn = {"http/1.1"};
  if (with_client_cert)
    settings.certificate = {files().client.chain.string(), files().client.key.string()};
  auto context = gantry::net::tls_context::client(settings);
  asio::io_context io;
  tls_answer answer;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        gantry::net::tcp_stream tcp{io.get_executor()};
        auto [connect_ec] = co_await tcp.async_connect(at, use_tuple);
        if (connect_ec) {
          answer.handshake = connect_ec;
          co_return;
        }
        std::error_code ec;
        tcp.connected(ec);
        gantry::net::tls_stream<gantry::net::tcp_stream> tls{std::move(tcp), context,
                                                             "api.example.com"};
        std::tie(answer.handshake) = co_await tls.async_handshake(use_tuple);
        if (answer.handshake) co_return;
        const mbedtls_x509_crt* served = mbedtls_ssl_get_peer_cert(&tls.native_handle());
        for (const mbedtls_x509_name* n = &served->subject; n != nullptr; n = n->next)
          if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
            answer.server_cn.assign(reinterpret_cast<const char*>(n->val.p), n->val.len);
        const std::string request = "GET / HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n";
        co_await tls.async_write({asio::buffer(request), asio::const_buffer{}}, use_tuple);
        char buffer[4096];
        for (;;) {
          auto [read_ec, n] = co_await tls.async_read_some(asio::buffer(buffer), use_tuple);
          if (read_ec) break;
          answer.response.append(buffer, n);
        }
      },
      asio::detached);
  io.run_for(10s);
  return answer;
}

std::string body_of(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

}  // namespace

TEST_CASE("a TLS address: the handshake, and the exchange's TLS facts") {
  gantry::gateway gw{gantry::gateway_options{.workers = 2}};
  gw.configure(tls_config(files().first));
  const auto plain = gw.listen("127.0.0.1:0");
  const auto secure = gw.listen("127.0.0.1:0", {.tls = "public"});
  gw.start();

  const tls_answer anonymous = ask(secure);
  REQUIRE(!anonymous.handshake);
  CHECK(anonymous.server_cn == "first.example.com");
  CHECK(body_of(anonymous.response) ==
        "https TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 sni=api.example.com "
        "alpn=http/1.1");
  const tls_answer with_cert = ask(secure, true);
  REQUIRE(!with_cert.handshake);
  CHECK(body_of(with_cert.response).ends_with(" peer=CN=svc-a, O=Gantry Tests verified=true"));
  // The same routes, in plain HTTP, on the other address.
  CHECK(body_of(gantry::test::exchange_raw(
            plain, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")) == "http");
  gw.stop();
  gw.wait();
}

TEST_CASE("a TLS address: a reload renews the certificate for new connections") {
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  gw.configure(tls_config(files().first));
  const auto secure = gw.listen("127.0.0.1:0", {.tls = "public"});
  gw.start();
  CHECK(ask(secure).server_cn == "first.example.com");
  gw.reload(tls_config(files().renewed));
  CHECK(ask(secure).server_cn == "renewed.example.com");

  // A configuration without the TLS settings an address serves is refused.
  gantry::gateway_config without = tls_config(files().renewed);
  without.tls.clear();
  CHECK_THROWS_WITH_AS(gw.reload(without), "tls 'public' is being served, so it cannot be removed",
                       std::invalid_argument);
  // So is one whose files are not a certificate and its key.
  gantry::gateway_config broken = tls_config(files().renewed);
  broken.tls[0].settings.certificates[0].key = files().client.key.string();
  try {
    gw.reload(broken);
    FAIL("a key of another certificate was accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string_view{e.what()}.starts_with("tls 'public': certificates[0].key: "));
  }
  CHECK(ask(secure).server_cn == "renewed.example.com");
  CHECK_THROWS_AS(gw.listen("127.0.0.1:0", {.tls = "private"}), std::invalid_argument);
  gw.stop();
  gw.wait();
}

TEST_CASE("a TLS address: plain HTTP and a stalled handshake are closed, nothing answered") {
  gantry::gateway_options options{.workers = 1};
  options.client.request_head_timeout = 300ms;
  options.timer_resolution = 50ms;
  auto registry = std::make_shared<gantry::policy::metrics_registry>(1);
  options.metrics = registry;
  gantry::gateway gw{options};
  gw.configure(tls_config(files().first));
  const auto secure = gw.listen("127.0.0.1:0", {.tls = "public"});
  gw.start();
  // Plain HTTP: not a TLS record; at most an alert comes back, never an HTTP answer.
  const std::string plain = gantry::test::exchange_raw(
      secure, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  CHECK(plain.find("HTTP/1.1") == std::string::npos);
  // A client that connects and says nothing is closed once the head's timeout passes (the
  // read below ends only then).
  CHECK(gantry::test::exchange_raw(secure, "").empty());
  // Half a ClientHello, then silence: closed the same way.
  CHECK(gantry::test::exchange_raw(
            secure, std::string_view{"\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03", 11})
            .find("HTTP/1.1") == std::string::npos);
  // Records of garbage: an alert at most, never an answer.
  std::string garbage = "\x17\x03\x03\x00\x20";
  garbage.append(32, '\x5a');
  CHECK(gantry::test::exchange_raw(secure, garbage).find("HTTP/1.1") == std::string::npos);
  CHECK(!ask(secure).handshake);  // and the worker still serves
  gw.stop();
  gw.wait();
  // Each is counted: plain HTTP and garbage failed, silence and half a hello timed out.
  using gantry::policy::connection_event;
  CHECK(registry->count(connection_event::accepted) == 5);
  CHECK(registry->count(connection_event::tls_failed) == 2);
  CHECK(registry->count(connection_event::tls_timed_out) == 2);
  CHECK(registry->count(connection_event::tls_full_handshake) == 1);
  CHECK(registry->count(connection_event::tls_resumed) == 0);
  const std::string metrics = registry->render();
  CHECK(metrics.find("gantry_connections_total 5\n") != std::string::npos);
  CHECK(metrics.find("gantry_tls_handshakes_total{result=\"failed\"} 2\n") != std::string::npos);
  CHECK(metrics.find("gantry_tls_handshakes_total{result=\"timed_out\"} 2\n") != std::string::npos);
}

TEST_CASE("a plain address can send its clients to the TLS one") {
  gantry::gateway_config config = tls_config(files().first);
  config.listeners = {{.name = "plain",
                       .routes = {{.name = "to-https",
                                   .match = {.path = gantry::route::path_prefix{"/"}},
                                   .action = gantry::route::redirect{
                                       .status = gantry::http::status::moved_permanently,
                                       .location = {},
                                       .to_https = true,
                                       .https_port = 8443}}},
                       .listener_policies = {}}};
  gantry::gateway gw{gantry::gateway_options{.workers = 1}};
  gw.configure(config);
  const auto plain = gw.listen("127.0.0.1:0", {.name = "plain"});
  gw.start();
  const std::string moved = gantry::test::exchange_raw(
      plain, "GET /users/7?x=1 HTTP/1.1\r\nHost: api.example.com:8080\r\nConnection: close\r\n\r\n");
  CHECK(moved.starts_with("HTTP/1.1 301"));
  CHECK(moved.find("\r\nLocation: https://api.example.com:8443/users/7?x=1\r\n") !=
        std::string::npos);
  const std::string old = gantry::test::exchange_raw(plain, "GET /a HTTP/1.0\r\n\r\n");
  CHECK(old.find("\r\nLocation: https://127.0.0.1:8443/a\r\n") != std::string::npos);
  gw.stop();
  gw.wait();

  config.listeners[0].routes[0].action =
      gantry::route::redirect{.location = "https://elsewhere/", .to_https = true};
  gantry::gateway bad{gantry::gateway_options{.workers = 1}};
  CHECK_THROWS_WITH_AS(bad.reload(config),
                       doctest::Contains("redirect has both a location and to_https"),
                       std::invalid_argument);
}

namespace {

// Echoes the client's port too, so a test sees whether upstream connections are reused.
struct echo_peer {
  gantry::policy::verdict on_request_head(gantry::policy::exchange& ex) const {
    const auto& d = ex.downstream;
    std::string body = fmt::format("{} port={}", d.scheme, d.peer_port);
    if (d.tls != nullptr && d.tls->peer_certificate != nullptr)
      body += fmt::format(" peer={} verified={}", d.tls->peer_certificate->subject,
                          d.tls->peer_certificate->verified);
    return ex.respond(gantry::http::status::ok, body, "text/plain");
  }
};

// Keeps the error of each exchange, as the access log would write it ("" for none).
struct error_log {
  std::shared_ptr<std::vector<std::string>> seen = std::make_shared<std::vector<std::string>>();
  void on_log(gantry::policy::exchange& ex) const {
    seen->push_back(ex.error ? ex.error.message() : "");
  }
};

// A gateway proxying plain HTTP to `upstream` over TLS, as `tls` says; `log` sees each
// exchange.
gantry::gateway_config proxy_to(asio::ip::tcp::endpoint upstream,
                                gantry::net::tls_client_settings tls, error_log log = {}) {
  gantry::gateway_config config;
  config.clusters = {{.name = "secure",
                      .endpoints = {fmt::format("127.0.0.1:{}", upstream.port())},
                      .tls = std::move(tls)}};
  config.policies = {{.name = "log", .chain = gantry::policy::chain{}.add(log)}};
  config.listener_policies = {"log"};
  return config;
}

}  // namespace

TEST_CASE("a cluster that speaks TLS: verified server, client certificate, pooled connections") {
  // The upstream: a gateway whose TLS address requires client certificates.
  gantry::gateway_config upstream_config = tls_config(files().first);
  upstream_config.policies = {{.name = "echo", .chain = gantry::policy::chain{}.add(echo_peer{})}};
  upstream_config.tls[0].settings.client_certificates =
      gantry::net::client_certificate_mode::required;
  auto upstream_metrics = std::make_shared<gantry::policy::metrics_registry>(1);
  gantry::gateway upstream{gantry::gateway_options{.workers = 1, .metrics = upstream_metrics}};
  upstream.configure(upstream_config);
  const auto secure = upstream.listen("127.0.0.1:0", {.tls = "public"});
  // The same, closing each connection after one exchange.
  gantry::client_options one_exchange;
  one_exchange.max_requests_per_connection = 1;
  const auto closing = upstream.listen("127.0.0.1:0", {.tls = "public", .client = one_exchange});
  upstream.start();

  gantry::net::tls_client_settings tls;
  tls.ca = files().pki.ca().string();
  tls.server_name = "api.example.com";
  tls.certificate = {files().client.chain.string(), files().client.key.string()};
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

  SUBCASE("mTLS to the upstream, and its connection kept for the next request") {
    gantry::gateway gw{gantry::gateway_options{.workers = 1}};
    gw.configure(proxy_to(secure, tls));
    const auto plain = gw.listen("127.0.0.1:0");
    gw.start();
    const std::string first = body_of(gantry::test::exchange_raw(plain, request));
    CHECK(first.starts_with("https port="));
    CHECK(first.ends_with(" peer=CN=svc-a, O=Gantry Tests verified=true"));
    CHECK(body_of(gantry::test::exchange_raw(plain, request)) == first);  // the same connection
    gw.stop();
    gw.wait();
  }
  SUBCASE("a connection verified for one name never serves a cluster that expects another") {
    // Two clusters on the same address: the first expects the name the upstream's
    // certificate carries, the second another one.
    gantry::gateway_config config = proxy_to(secure, tls);
    auto elsewhere = config.clusters[0];
    elsewhere.name = "elsewhere";
    elsewhere.tls->server_name = "elsewhere.example.com";
    config.clusters.push_back(elsewhere);
    config.routes = {{.name = "right",
                      .match = {.path = gantry::route::path_prefix{"/right"}},
                      .action = gantry::route::proxy{"secure"}},
                     {.name = "wrong",
                      .match = {.path = gantry::route::path_prefix{"/wrong"}},
                      .action = gantry::route::proxy{"elsewhere"}}};
    gantry::gateway gw{gantry::gateway_options{.workers = 1}};
    gw.configure(config);
    const auto plain = gw.listen("127.0.0.1:0");
    gw.start();
    for (int i = 0; i < 2; ++i) {
      // A connection for /right is pooled between the two; /wrong must not take it.
      CHECK(gantry::test::exchange_raw(
                plain, "GET /right HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                .starts_with("HTTP/1.1 200"));
      CHECK(gantry::test::exchange_raw(
                plain, "GET /wrong HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                .starts_with("HTTP/1.1 502"));
    }
    gw.stop();
    gw.wait();
  }
  SUBCASE("a new connection to the upstream resumes the session of the last one") {
    gantry::gateway gw{gantry::gateway_options{.workers = 1}};
    gw.configure(proxy_to(closing, tls));
    const auto plain = gw.listen("127.0.0.1:0");
    gw.start();
    for (int i = 0; i < 3; ++i)
      CHECK(body_of(gantry::test::exchange_raw(plain, request))
                .ends_with(" peer=CN=svc-a, O=Gantry Tests verified=true"));
    // Three connections, as the upstream closed each: one full handshake, then resumptions
    // that still carry the client certificate's facts.
    using gantry::policy::connection_event;
    CHECK(upstream_metrics->count(connection_event::tls_full_handshake) == 1);
    CHECK(upstream_metrics->count(connection_event::tls_resumed) == 2);
    // A reload reads the CA and certificate files again: a session made before it is not
    // offered after it (a resumed handshake would verify nothing).
    gw.reload(proxy_to(closing, tls));
    CHECK(gantry::test::exchange_raw(plain, request).starts_with("HTTP/1.1 200"));
    CHECK(gantry::test::exchange_raw(plain, request).starts_with("HTTP/1.1 200"));
    CHECK(upstream_metrics->count(connection_event::tls_full_handshake) == 2);
    CHECK(upstream_metrics->count(connection_event::tls_resumed) == 3);
    gw.stop();
    gw.wait();
  }
  SUBCASE("a certificate for another name, another CA, or no client certificate: 502") {
    auto wrong_name = tls;
    wrong_name.server_name = "elsewhere.example.com";
    auto wrong_ca = tls;
    wrong_ca.ca = files().stranger_ca.ca().string();
    auto anonymous = tls;
    anonymous.certificate = {};
    // What the log says of each.
    const std::vector<std::string> reasons{
        "TLS certificate rejected: The certificate Common Name (CN) does not match with the "
        "expected CN",
        "TLS certificate rejected: The certificate is not correctly signed by the trusted CA",
        // An mbedTLS server closes without an alert when the certificate it requires is missing.
        "TLS: the connection ended during the handshake, or without close_notify"};
    const std::vector<gantry::net::tls_client_settings> cases{wrong_name, wrong_ca, anonymous};
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(i);
      error_log log;
      gantry::gateway gw{gantry::gateway_options{.workers = 1}};
      gw.configure(proxy_to(secure, cases[i], log));
      const auto plain = gw.listen("127.0.0.1:0");
      gw.start();
      CHECK(gantry::test::exchange_raw(plain, request).starts_with("HTTP/1.1 502"));
      gw.stop();
      gw.wait();
      INFO(fmt::format("{}", fmt::join(*log.seen, " / ")));
      CHECK(*log.seen == std::vector<std::string>{reasons[i]});
    }
  }
  SUBCASE("what cannot be used is refused with the configuration") {
    auto broken = tls;
    broken.ca = "/nonexistent/ca.pem";
    gantry::gateway gw{gantry::gateway_options{.workers = 1}};
    CHECK_THROWS_WITH_AS(gw.reload(proxy_to(secure, broken)),
                         "cluster 'secure': tls.ca: /nonexistent/ca.pem: cannot read the file",
                         std::invalid_argument);
    // An address names no certificate: a verifying cluster must say which name to expect.
    auto unnamed = tls;
    unnamed.server_name.clear();
    CHECK_THROWS_WITH_AS(gw.reload(proxy_to(secure, unnamed)),
                         doctest::Contains("cluster 'secure': tls.server_name: required, as "
                                           "endpoint '127.0.0.1:"),
                         std::invalid_argument);
  }
  upstream.stop();
  upstream.wait();
}
