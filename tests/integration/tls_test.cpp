// HTTPS through gantryd with real TLS clients: curl and `openssl s_client` against
// `gantryd --tls-cert`, SNI and ALPN, session resumption, and client certificates.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "support/curl.hpp"
#include "support/nginx.hpp"
#include "support/test_pki.hpp"

using namespace gantry::testing;

namespace {

struct pki_files {
  test_pki pki;
  test_pki stranger_ca{"Another CA"};
  test_pki::issued server = pki.issue("api.example.com", {"api.example.com"});
  test_pki::issued renewed = pki.issue("renewed.example.com", {"api.example.com"});
  test_pki::issued client = pki.issue("svc-a", {"svc-a.internal"});
  test_pki::issued stranger = stranger_ca.issue("svc-b", {"svc-b.internal"});
};
const pki_files& files() {
  static const pki_files made;
  return made;
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// curl to https://api.example.com:PORT/path, resolved to gantryd on loopback and trusting
// the test CA; `more` adds flags.
command_result curl_https(std::uint16_t port, std::string_view path,
                          std::vector<std::string> more = {}) {
  std::vector<std::string> args{"-D", "-", "--cacert", files().pki.ca().string(), "--resolve",
                                "api.example.com:" + std::to_string(port) + ":127.0.0.1"};
  args.insert(args.end(), more.begin(), more.end());
  args.push_back("https://api.example.com:" + std::to_string(port) + std::string{path});
  return run_curl(args, after(30s));
}

// openssl s_client against gantryd, sending one request; `more` adds flags.
command_result s_client(std::uint16_t port, std::vector<std::string> more) {
  std::vector<std::string> argv{"/usr/bin/openssl", "s_client", "-connect",
                                "127.0.0.1:" + std::to_string(port), "-CAfile",
                                files().pki.ca().string(), "-ign_eof"};
  argv.insert(argv.end(), more.begin(), more.end());
  // Its stdin: one request that closes the connection, so s_client ends with it.
  temp_dir dir{"s_client"};
  const auto request =
      dir.write("request", "GET /x HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n");
  return run_command({.argv = {"/bin/sh", "-c", describe(argv) + " < " + request.string()},
                      .env = {},
                      .pass_fds = {}},
                     after(30s));
}

}  // namespace

TEST_CASE("gantryd --tls-cert: curl over HTTPS, the upstream told it was HTTPS") {
  stub_upstream up{stub::echo()};
  gantryd proxy{{.upstreams = {up.address()},
                 .args = {"--tls-cert", files().server.chain.string(), "--tls-key",
                          files().server.key.string()}}};
  const auto r = curl_https(proxy.port(), "/hello");
  INFO(r.err);
  REQUIRE(r.status.ok());
  CHECK(r.out.starts_with("HTTP/1.1 200"));
  CHECK(r.out.ends_with("GET /hello"));
  REQUIRE(up.requests().size() == 1);
  CHECK(up.requests()[0].head.fields.get("X-Forwarded-Proto") == "https");

  // Plain HTTP on the TLS port gets no HTTP answer; the next client is served.
  const auto plain = fetch(proxy.port(), make_request("GET", "/plain"));
  CHECK(plain.status() == 0);
  CHECK(curl_https(proxy.port(), "/again").status.ok());
}

TEST_CASE("gantryd --tls-cert: openssl s_client sees the certificate, ALPN, and resumes") {
  stub_upstream up{stub::echo()};
  gantryd proxy{{.upstreams = {up.address()},
                 .args = {"--tls-cert", files().server.chain.string(), "--tls-key",
                          files().server.key.string()}}};
  temp_dir dir{"sessions"};
  const std::string session = (dir / "session.pem").string();
  const auto first = s_client(proxy.port(), {"-servername", "api.example.com", "-alpn",
                                             "http/1.1", "-sess_out", session});
  INFO(first.out);
  INFO(first.err);
  CHECK(has(first.out, "Verify return code: 0 (ok)"));
  CHECK(has(first.out, "ALPN protocol: http/1.1"));
  CHECK(has(first.out, "Protocol  : TLSv1.2"));
  CHECK(has(first.out, "New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"));
  CHECK(has(first.out, "HTTP/1.1 200 OK"));

  const auto again = s_client(proxy.port(), {"-servername", "api.example.com", "-sess_in", session});
  INFO(again.out);
  CHECK(has(again.out, "Reused, TLSv1.2"));
  CHECK(has(again.out, "HTTP/1.1 200 OK"));

  // TLS 1.1 and older are refused.
  const auto old = s_client(proxy.port(), {"-tls1_1"});
  CHECK_FALSE(has(old.out, "HTTP/1.1 200 OK"));
}

TEST_CASE("gantryd --client-ca: client certificates are required and verified") {
  stub_upstream up{stub::echo()};
  gantryd proxy{{.upstreams = {up.address()},
                 .args = {"--tls-cert", files().server.chain.string(), "--tls-key",
                          files().server.key.string(), "--client-ca", files().pki.ca().string()}}};
  const auto with = curl_https(proxy.port(), "/mtls",
                               {"--cert", files().client.chain.string(), "--key",
                                files().client.key.string()});
  INFO(with.err);
  CHECK(with.status.ok());
  CHECK(with.out.ends_with("GET /mtls"));
  CHECK_FALSE(curl_https(proxy.port(), "/none").status.ok());
  CHECK_FALSE(curl_https(proxy.port(), "/stranger",
                         {"--cert", files().stranger.chain.string(), "--key",
                          files().stranger.key.string()})
                  .status.ok());
  CHECK(up.requests().size() == 1);  // only the verified client reached the upstream
}

TEST_CASE("gantryd refuses TLS flags it cannot use, and files that are not a key pair") {
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), gantryd_binary());
    return run_command({.argv = args, .env = {}, .pass_fds = {}}, after(10s));
  };
  const auto half = run({"--upstream", "127.0.0.1:9", "--tls-cert", files().server.chain.string()});
  CHECK(half.status.code == 2);
  CHECK(has(half.err, "TLS needs both --tls-cert and --tls-key"));
  const auto mismatch = run({"--upstream", "127.0.0.1:9", "--listen", "127.0.0.1:0", "--tls-cert",
                             files().server.chain.string(), "--tls-key",
                             files().client.key.string()});
  CHECK(mismatch.status.code == 1);
  CHECK(has(mismatch.err, "certificates[0].key: " + files().client.key.string() +
                              " is not the key of the certificate in " +
                              files().server.chain.string()));
}

namespace {

// A free loopback port, for a listener NGINX opens itself.
std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor probe{io, {asio::ip::make_address("127.0.0.1"), 0}};
  return probe.local_endpoint().port();
}

}  // namespace

TEST_CASE("gantryd --upstream-tls: NGINX as an HTTPS upstream that demands a client certificate") {
  const std::uint16_t https_port = free_port();
  const auto& f = files();
  nginx_server nginx{{.big_file_size = 0,
                      .extra_server = "listen 127.0.0.1:" + std::to_string(https_port) +
                                      " ssl;\n ssl_certificate " + f.server.chain.string() +
                                      ";\n ssl_certificate_key " + f.server.key.string() +
                                      ";\n ssl_client_certificate " + f.pki.ca().string() +
                                      ";\n ssl_verify_client on;\n"
                                      // A connection per request: each one a handshake.
                                      " location = /once { keepalive_requests 1; "
                                      "return 200 \"once\\n\"; }\n"}};
  const std::string upstream = "127.0.0.1:" + std::to_string(https_port);
  auto through = [&](std::vector<std::string> args) {
    std::vector<std::string> all{"--upstream-tls", "--upstream-ca", f.pki.ca().string()};
    all.insert(all.end(), args.begin(), args.end());
    return std::make_unique<gantryd>(gantryd_options{.upstreams = {upstream}, .args = all});
  };

  {
    auto proxy = through({"--upstream-server-name", "api.example.com", "--upstream-cert",
                          f.client.chain.string(), "--upstream-key", f.client.key.string()});
    auto r = get(proxy->port(), "/hello");
    CHECK(r.status() == 200);
    CHECK(r.body == "hello from nginx\n");
    CHECK(get(proxy->port(), "/hello").status() == 200);
    REQUIRE(nginx.wait_for_access_log(2, after(10s)));
    CHECK(distinct(nginx.access_log(), "connection") == 1);  // one TLS connection, kept
    // NGINX closes each connection after one /once: the next ones resume the session.
    for (int i = 0; i < 3; ++i) CHECK(get(proxy->port(), "/once").status() == 200);
    REQUIRE(nginx.wait_for_access_log(5, after(10s)));
    const auto log = nginx.access_log();
    CHECK(distinct(log, "connection") == 3);
    CHECK(log[0].at("ssl_reused") == ".");
    CHECK(log[3].at("ssl_reused") == "r");
    CHECK(log[4].at("ssl_reused") == "r");
  }
  {
    // NGINX finishes the handshake without a client certificate, then refuses the request.
    auto proxy = through({"--upstream-server-name", "api.example.com"});
    CHECK(get(proxy->port(), "/hello").status() == 400);
  }
  {
    // A certificate that does not carry the name asked for: the gateway refuses it.
    auto proxy = through({"--upstream-server-name", "other.example.com", "--upstream-cert",
                          f.client.chain.string(), "--upstream-key", f.client.key.string()});
    CHECK(get(proxy->port(), "/hello").status() == 502);
  }
}

TEST_CASE("gantryd --config: reloads under HTTPS load swap the certificate, no request fails") {
  stub_upstream up{stub::echo()};
  const auto& f = files();
  const auto& renewed = f.renewed;
  temp_dir dir{"tls-reload"};
  std::filesystem::copy_file(f.server.chain, dir / "server.pem");
  std::filesystem::copy_file(f.server.key, dir / "server.key");
  const auto file = dir.write("gantry.yaml", "listen:\n"
                                             "  - address: \"127.0.0.1:0\"\n"
                                             "    tls: {certificates: [{cert: server.pem, key: "
                                             "server.key}]}\n"
                                             "clusters: [{name: up, endpoints: [\"" +
                                                 up.address() + "\"]}]\n");
  child_process gantryd{spawn_options{
      .argv = {gantryd_binary(), "--config", file.string(), "--workers", "2", "--quiet"},
      .env = {},
      .pass_fds = {}}};
  const std::string ready = "gantryd listening on 127.0.0.1:";
  const auto line = gantryd.wait_for_line(ready, after(10s));
  REQUIRE(line);
  const std::string port = line->substr(ready.size());

  child_process wrk{spawn_options{
      .argv = {"/usr/bin/wrk", "-t1", "-c8", "-d4s", "https://127.0.0.1:" + port + "/x"},
      .env = {},
      .pass_fds = {}}};
  // Eleven swaps, the last to the renewed certificate.
  for (int i = 0; i <= 10; ++i) {
    std::this_thread::sleep_for(270ms);
    const auto& use = i % 2 == 0 ? renewed : f.server;
    std::filesystem::copy_file(use.chain, dir / "server.pem",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(use.key, dir / "server.key",
                               std::filesystem::copy_options::overwrite_existing);
    gantryd.send_signal(SIGHUP);
  }
  auto status = wrk.wait(after(20s));
  wrk.wait_for_output_end(after(2s));
  const std::string report = wrk.stdout_text();
  INFO(report);
  REQUIRE(status);
  CHECK(status->ok());
  CHECK_FALSE(has(report, "Non-2xx"));
  CHECK_FALSE(has(report, "Socket errors"));
  const auto in = report.find(" requests in");
  REQUIRE(in != std::string::npos);
  const auto start = report.find_last_not_of("0123456789", in - 1) + 1;
  CHECK(std::stoul(report.substr(start, in - start)) > 500);
  CHECK(has(gantryd.stdout_text(), "gantryd: reloaded"));
  // New connections get the certificate of the last reload.
  const auto served = s_client(static_cast<std::uint16_t>(std::stoul(port)),
                               {"-servername", "api.example.com"});
  CHECK(has(served.out, "subject=CN = renewed.example.com"));
  gantryd.send_signal(SIGTERM);
  const auto ended = gantryd.wait(after(10s));
  CHECK((ended && ended->ok()));
}

TEST_CASE("gantryd --check: an expired certificate is served, with a warning at its line") {
  test_pki pki;
  const auto old = pki.issue_expired("old.example.com");
  temp_dir dir{"expired"};
  const auto file = dir.write(
      "gantry.yaml", fmt::format("listen:\n"
                                 "  - address: \"127.0.0.1:0\"\n"
                                 "    tls:\n"
                                 "      certificates: [{{cert: {}, key: {}}}]\n"
                                 "clusters: [{{name: up, endpoints: [\"127.0.0.1:9\"]}}]\n",
                                 old.chain.string(), old.key.string()));
  const auto r =
      run_command({.argv = {gantryd_binary(), "--check", file.string()}, .env = {}, .pass_fds = {}},
                  after(10s));
  INFO(r.err);
  CHECK(r.status.ok());
  CHECK(has(r.out, "valid"));
  CHECK(has(r.err, file.string() +
                       ":4:29: listen[0].tls.certificates[0].cert: warning: " + old.chain.string() +
                       ": the certificate for old.example.com expired on 2020-01-02 00:00:00 UTC; "
                       "clients will refuse it\n"));
}
