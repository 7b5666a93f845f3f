// The TLS byte stream, both sides of it on the in-memory stream: handshakes with SNI, ALPN
// and client certificates, data both ways at every split of the ciphertext, resumption, and
// what goes wrong (a wrong CA, a missing client certificate, a wrong name, garbage, a peer
// that goes away mid-handshake).
#include "net/tls_stream.hpp"

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gantry/testing/memory_stream.hpp"
#include "support/test_pki.hpp"

using namespace std::chrono_literals;
using gantry::core::use_tuple;
using gantry::net::client_certificate_mode;
using gantry::net::tls_context;
using gantry::testing::memory_stream;
using gantry::testing::test_pki;
using tls = gantry::net::tls_stream<memory_stream>;

namespace {

// Certificates made once for the whole file: making keys is the slow part.
struct certificates {
  test_pki pki;
  test_pki other_ca{"Another CA"};
  test_pki::issued api = pki.issue("api.example.com", {"api.example.com", "api.internal"});
  test_pki::issued wildcard = pki.issue("wildcard", {"*.apps.example.com"});
  test_pki::issued rsa = pki.issue("rsa.example.com", {"rsa.example.com"},
                                   test_pki::key_type::rsa_2048);
  test_pki::issued client = pki.issue("svc-a", {"svc-a.internal"});
  test_pki::issued stranger = other_ca.issue("svc-b", {"svc-b.internal"});
};
const certificates& certs() {
  static const certificates made;
  return made;
}

gantry::net::tls_server_settings server_settings() {
  gantry::net::tls_server_settings s;
  s.certificates = {{certs().api.chain.string(), certs().api.key.string()},
                    {certs().wildcard.chain.string(), certs().wildcard.key.string()},
                    {certs().rsa.chain.string(), certs().rsa.key.string()}};
  return s;
}

gantry::net::tls_client_settings client_settings() {
  gantry::net::tls_client_settings s;
  s.ca = certs().pki.ca().string();
  s.alpn = {"http/1.1"};
  return s;
}

struct handshake_result {
  std::error_code server, client;
};

// Both ends of a connection in memory, with the handshake run on both.
struct tls_pair {
  asio::io_context io;
  std::pair<memory_stream, memory_stream> ends = memory_stream::make_pair(io.get_executor());
  memory_stream& server_end = ends.first;
  memory_stream& client_end = ends.second;
  std::optional<tls> server;
  std::optional<tls> client;

  tls_pair(std::shared_ptr<const tls_context> server_context,
           std::shared_ptr<const tls_context> client_context, std::string_view name) {
    server.emplace(server_end, std::move(server_context));
    client.emplace(client_end, std::move(client_context), name);
  }

  handshake_result handshake() {
    handshake_result r{asio::error::would_block, asio::error::would_block};
    server->async_handshake([&](std::error_code ec) {
      r.server = ec;
      if (ec) server->close();  // as the gateway does: the client then sees the end
    });
    client->async_handshake([&](std::error_code ec) {
      r.client = ec;
      if (ec) client->close();
    });
    io.restart();
    io.run_for(10s);
    return r;
  }

  // Writes `text` from `from`, reads it all on `to`.
  std::string send(tls& from, tls& to, const std::string& text, std::string_view second = {}) {
    std::string received;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto [ec, n] = co_await from.async_write({asio::buffer(text), asio::buffer(second)},
                                                   use_tuple);
          CHECK(!ec);
          CHECK(n == text.size() + second.size());
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          std::vector<char> buffer(7000);
          while (received.size() < text.size() + second.size()) {
            auto [ec, n] = co_await to.async_read_some(asio::buffer(buffer), use_tuple);
            if (ec) co_return;
            received.append(buffer.data(), n);
          }
        },
        asio::detached);
    io.restart();
    io.run_for(10s);
    return received;
  }
};

}  // namespace

TEST_CASE("tls_stream: a handshake, its facts, and data both ways") {
  auto server_context = tls_context::server(server_settings());
  auto client_context = tls_context::client(client_settings());
  tls_pair p{server_context, client_context, "api.example.com"};
  const handshake_result r = p.handshake();
  REQUIRE(!r.server);
  REQUIRE(!r.client);
  const auto& facts = p.server->facts();
  CHECK(facts.version == "TLSv1.2");
  CHECK(facts.cipher == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  CHECK(facts.sni == "api.example.com");
  CHECK(facts.alpn == "http/1.1");
  CHECK(facts.peer_certificate == nullptr);
  CHECK(p.client->facts().alpn == "http/1.1");

  CHECK(p.send(*p.client, *p.server, "GET / HTTP/1.1\r\n\r\n") == "GET / HTTP/1.1\r\n\r\n");
  const std::string big(100'000, 'b');  // several records
  CHECK(p.send(*p.server, *p.client, "head:", big) == "head:" + big);
  // Nothing is left over once both read what the other wrote.
  char byte = 0;
  std::error_code ec;
  CHECK(p.server->read_some_now(asio::buffer(&byte, 1), ec) == 0);
  CHECK(ec == asio::error::would_block);
}

TEST_CASE("tls_stream: an idle connection gives its read buffer back and reads on") {
  tls_pair p{tls_context::server(server_settings()), tls_context::client(client_settings()),
             "api.example.com"};
  REQUIRE(!p.handshake().server);
  CHECK(p.send(*p.client, *p.server, "one") == "one");
  p.server->shrink();
  p.client->shrink();
  CHECK(p.send(*p.client, *p.server, "two") == "two");
  CHECK(p.send(*p.server, *p.client, std::string(40'000, 'z')) == std::string(40'000, 'z'));
}

TEST_CASE("tls_stream: close_notify ends the stream; a bare close after the handshake does not") {
  auto server_context = tls_context::server(server_settings());
  auto client_context = tls_context::client(client_settings());
  auto read_end = [](tls_pair& p) {
    std::error_code result = asio::error::would_block;
    char byte = 0;
    p.server->async_read_some(asio::buffer(&byte, 1),
                              [&](std::error_code ec, std::size_t) { result = ec; });
    p.io.restart();
    p.io.run_for(5s);
    return result;
  };
  SUBCASE("close_notify, then the transport's end: an orderly end") {
    tls_pair p{server_context, client_context, "api.example.com"};
    REQUIRE(!p.handshake().server);
    std::error_code ec;
    p.client->shutdown_send(ec);
    CHECK(!ec);
    CHECK(read_end(p) == asio::error::eof);
  }
  SUBCASE("the transport's end alone: what was read may have been cut short") {
    tls_pair p{server_context, client_context, "api.example.com"};
    REQUIRE(!p.handshake().server);
    std::error_code ec;
    p.client_end.shutdown_send(ec);  // under the TLS layer: no close_notify
    const std::error_code end = read_end(p);
    CHECK(end);
    CHECK(end != asio::error::eof);
    CHECK(end == gantry::net::tls_truncated());
  }
}

// For each of `limits`: a pair whose two ends `shape(end, limit)` sets up, a handshake, and
// data both ways: two pieces one way, `size` bytes (several records past 16 KiB) the other.
template <class Shape>
void check_exchanges(std::initializer_list<std::size_t> limits, std::size_t size, Shape shape) {
  auto server_context = tls_context::server(server_settings());
  auto client_context = tls_context::client(client_settings());
  for (std::size_t limit : limits) {
    CAPTURE(limit);
    tls_pair p{server_context, client_context, "api.example.com"};
    shape(p.server_end, limit);
    shape(p.client_end, limit);
    const handshake_result r = p.handshake();
    REQUIRE(!r.server);
    REQUIRE(!r.client);
    CHECK(p.send(*p.client, *p.server, "ping", "pong") == "pingpong");
    CHECK(p.send(*p.server, *p.client, std::string(size, 'x')) == std::string(size, 'x'));
  }
}

TEST_CASE("tls_stream: every split of the ciphertext makes the same exchange") {
  // A byte per read makes a read per byte: a small exchange.
  check_exchanges({1, 2, 5, 13, 100, 1000}, 3000,
                  [](memory_stream& end, std::size_t limit) { end.set_read_limit(limit); });
}

TEST_CASE("tls_stream: what the transport does not take at once is flushed before waiting") {
  // As over a socket whose buffer is full: each side's flight must be written out by the
  // operation before it waits for the answer, or both would wait forever.
  check_exchanges({0, 1, 7, 300}, 40000,
                  [](memory_stream& end, std::size_t limit) { end.set_write_now_limit(limit); });
}

TEST_CASE("tls_stream: SNI picks the certificate; the first one serves other names") {
  auto server_context = tls_context::server(server_settings());
  struct expectation {
    std::string name;
    std::string cipher;
    bool verifies;
  };
  const std::vector<expectation> cases{
      {"api.internal", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", true},
      {"shop.apps.example.com", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", true},
      {"RSA.example.com", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", true},
      // Two labels under the wildcard: no match, so the first certificate, which does not
      // carry the name: the client refuses it.
      {"a.b.apps.example.com", "", false},
      {"unknown.example.org", "", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    tls_pair p{server_context, tls_context::client(client_settings()), c.name};
    const handshake_result r = p.handshake();
    CHECK(!r.client == c.verifies);
    if (c.verifies) {
      CHECK(p.server->facts().sni == c.name);
      CHECK(p.server->facts().cipher == c.cipher);
    }
  }
}

TEST_CASE("tls_stream: strict SNI refuses names no certificate carries, and no name") {
  auto settings = server_settings();
  settings.strict_sni = true;
  auto server_context = tls_context::server(settings);
  {
    tls_pair p{server_context, tls_context::client(client_settings()), "shop.apps.example.com"};
    const handshake_result r = p.handshake();
    CHECK(!r.client);
    CHECK(p.server->facts().sni == "shop.apps.example.com");
  }
  {
    // The server's own error says why; the client gets an alert.
    tls_pair p{server_context, tls_context::client(client_settings()), "unknown.example.org"};
    const handshake_result r = p.handshake();
    CHECK(r.server == gantry::net::tls_error(MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO));
    CHECK(r.client == gantry::net::tls_error(MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE));
  }
  {
    auto anonymous = client_settings();
    anonymous.verify = false;  // so that it may send no name
    tls_pair p{server_context, tls_context::client(anonymous), ""};
    const handshake_result r = p.handshake();
    CHECK(r.server);
    CHECK(r.client);
  }
  // Not strict: a client without a name gets the first certificate.
  auto anonymous = client_settings();
  anonymous.verify = false;
  tls_pair p{tls_context::server(server_settings()), tls_context::client(anonymous), ""};
  CHECK(!p.handshake().client);
}

TEST_CASE("tls_stream: client certificates, required and optional") {
  auto settings = server_settings();
  settings.client_ca = certs().pki.ca().string();
  auto with_certificate = [](const test_pki::issued& cert) {
    auto s = client_settings();
    s.certificate = {cert.chain.string(), cert.key.string()};
    return tls_context::client(s);
  };

  SUBCASE("required: a certificate from the CA goes through, with its facts") {
    settings.client_certificates = client_certificate_mode::required;
    tls_pair p{tls_context::server(settings), with_certificate(certs().client), "api.example.com"};
    const handshake_result r = p.handshake();
    REQUIRE(!r.server);
    const auto* peer = p.server->facts().peer_certificate;
    REQUIRE(peer != nullptr);
    CHECK(peer->verified);
    CHECK(peer->subject == "CN=svc-a, O=Gantry Tests");
    REQUIRE(peer->subject_alt_names.size() == 1);
    CHECK(peer->subject_alt_names[0] == "svc-a.internal");
    CHECK(peer->sha256_fingerprint.size() == 64);
  }
  SUBCASE("required: none, or one from another CA, fails the handshake") {
    settings.client_certificates = client_certificate_mode::required;
    auto server_context = tls_context::server(settings);
    for (auto client_context :
         {tls_context::client(client_settings()), with_certificate(certs().stranger)}) {
      tls_pair p{server_context, client_context, "api.example.com"};
      const handshake_result r = p.handshake();
      CHECK(r.server);
      CHECK(r.client);
    }
  }
  SUBCASE("optional: one from another CA goes through, unverified; none is fine") {
    settings.client_certificates = client_certificate_mode::optional;
    auto server_context = tls_context::server(settings);
    tls_pair p{server_context, with_certificate(certs().stranger), "api.example.com"};
    const handshake_result r = p.handshake();
    REQUIRE(!r.server);
    REQUIRE(p.server->facts().peer_certificate != nullptr);
    CHECK_FALSE(p.server->facts().peer_certificate->verified);
    tls_pair none{server_context, tls_context::client(client_settings()), "api.example.com"};
    REQUIRE(!none.handshake().server);
    CHECK(none.server->facts().peer_certificate == nullptr);
  }
}

TEST_CASE("tls_stream: a server the client cannot verify is refused") {
  auto server_context = tls_context::server(server_settings());
  SUBCASE("a CA the client does not trust") {
    auto s = client_settings();
    s.ca = certs().other_ca.ca().string();
    tls_pair p{server_context, tls_context::client(s), "api.example.com"};
    const handshake_result r = p.handshake();
    CHECK(r.client == gantry::net::tls_certificate_rejected(MBEDTLS_X509_BADCERT_NOT_TRUSTED));
    CHECK(r.client.message() ==
          "TLS certificate rejected: The certificate is not correctly signed by the trusted CA");
    CHECK(r.server);
  }
  SUBCASE("a name the certificate does not carry") {
    tls_pair p{server_context, tls_context::client(client_settings()), "elsewhere.example.com"};
    const std::error_code ec = p.handshake().client;
    CHECK(ec == gantry::net::tls_certificate_rejected(MBEDTLS_X509_BADCERT_CN_MISMATCH));
    CHECK(ec.message() ==
          "TLS certificate rejected: The certificate Common Name (CN) does not match with the "
          "expected CN");
    CHECK(gantry::net::is_tls_error(ec));
  }
  SUBCASE("no name at all, while verifying: refused before any byte is sent") {
    CHECK_THROWS_AS((tls_pair{server_context, tls_context::client(client_settings()), ""}),
                    std::invalid_argument);
  }
}

TEST_CASE("tls_stream: garbage and a peer that goes away end the handshake with an error") {
  auto server_context = tls_context::server(server_settings());
  asio::io_context io;
  SUBCASE("plain HTTP on a TLS port") {
    memory_stream raw{io.get_executor()};
    raw.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    tls server{raw, server_context};
    std::error_code result = asio::error::would_block;
    server.async_handshake([&](std::error_code ec) { result = ec; });
    io.run_for(5s);
    CHECK(result);
    CHECK(result != asio::error::would_block);
  }
  SUBCASE("a truncated handshake") {
    memory_stream raw{io.get_executor()};
    raw.feed(std::string_view{"\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03", 11});
    raw.feed_end();
    tls server{raw, server_context};
    std::error_code result = asio::error::would_block;
    server.async_handshake([&](std::error_code ec) { result = ec; });
    io.run_for(5s);
    CHECK(result == asio::error::eof);
  }
}

TEST_CASE("tls_stream: a session resumes from a ticket") {
  auto server_context = tls_context::server(server_settings());
  auto client_context = tls_context::client(client_settings());
  tls_pair first{server_context, client_context, "api.example.com"};
  REQUIRE(!first.handshake().client);
  mbedtls_ssl_session saved;
  mbedtls_ssl_session_init(&saved);
  REQUIRE(mbedtls_ssl_get_session(&first.client->native_handle(), &saved) == 0);

  tls_pair second{server_context, client_context, "api.example.com"};
  REQUIRE(mbedtls_ssl_set_session(&second.client->native_handle(), &saved) == 0);
  REQUIRE(!second.handshake().client);
  CHECK(second.client->resumed());
  CHECK(second.server->resumed());

  tls_pair fresh{server_context, client_context, "api.example.com"};
  REQUIRE(!fresh.handshake().client);
  CHECK_FALSE(fresh.server->resumed());

  // Offered to a server that cannot resume it (other ticket keys, another cache): a full
  // handshake, and the client knows.
  tls_pair declined{tls_context::server(server_settings()), client_context, "api.example.com"};
  REQUIRE(mbedtls_ssl_set_session(&declined.client->native_handle(), &saved) == 0);
  REQUIRE(!declined.handshake().client);
  CHECK_FALSE(declined.client->resumed());
  CHECK_FALSE(declined.server->resumed());
  mbedtls_ssl_session_free(&saved);
}

TEST_CASE("tls_context: what cannot be served is named by field") {
  auto problems = [](const gantry::net::tls_server_settings& s) {
    try {
      tls_context::server(s);
    } catch (const std::invalid_argument& e) {
      return std::string{e.what()};
    }
    return std::string{};
  };
  gantry::net::tls_server_settings s;
  CHECK(problems(s) == "certificates: at least one is required");
  s.certificates = {{certs().api.chain.string(), certs().client.key.string()},
                    {"/nonexistent.pem", ""}};
  s.client_certificates = client_certificate_mode::required;
  const std::string text = problems(s);
  INFO(text);
  CHECK(text.find("certificates[0].key: " + certs().client.key.string() +
                  " is not the key of the certificate in " + certs().api.chain.string()) !=
        std::string::npos);
  CHECK(text.find("certificates[1].cert: /nonexistent.pem: ") != std::string::npos);
  CHECK(text.find("certificates[1].key: required") != std::string::npos);
  CHECK(text.find("client_ca: required when client certificates are asked for") !=
        std::string::npos);
}
