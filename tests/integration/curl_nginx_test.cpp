// Third-party peers on both sides: curl → gantryd → NGINX.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include "common.hpp"
#include "gantry/core/ascii.hpp"
#include "support/curl.hpp"
#include "support/nginx.hpp"
#include "support/temp_dir.hpp"

using namespace gantry::testing;

namespace {

constexpr std::uint64_t gib = 1ull << 30;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// A header line in curl's -D output, matched without regard to case.
bool has_header_line(const std::string& dump, std::string_view name, std::string_view value) {
  std::istringstream in{dump};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (gantry::core::iequals(line.substr(0, colon), name) &&
        gantry::core::list_contains(line.substr(colon + 1), value))
      return true;
  }
  return false;
}

std::string url(const gantryd& proxy, std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(proxy.port()) + std::string{path};
}

std::string diagnose(const command_result& r) {
  return "curl exit " + std::to_string(r.status.code) + (r.timed_out ? " (timed out)" : "") +
         "\nstdout: " + r.out.substr(0, 2000) + "\nstderr: " + r.err.substr(0, 4000);
}

}  // namespace

TEST_CASE("curl and NGINX: everyday exchanges through gantryd") {
  nginx_server nginx{{.big_file_size = gib, .extra_server = {}}};
  gantryd proxy{{.upstreams = {nginx.address()}, .workers = 1}};
  temp_dir files{"curl"};
  auto d = after(60s);

  SUBCASE("GET: the body arrives and the response carries Via") {
    auto r = run_curl({"-D", "-", url(proxy, "/hello")}, d);
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(r.out.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(has_header_line(r.out, "Via", "1.1 gantry"));
    CHECK(r.out.size() >= 17);
    CHECK(r.out.substr(r.out.size() - 17) == "hello from nginx\n");
  }

  SUBCASE("NGINX sees the forwarding headers and none of the client's hop-by-hop ones") {
    auto r = run_curl({url(proxy, "/echo"), "-H", "X-Forwarded-For: 10.9.8.7", "-H",
                       "Connection: X-Hop", "-H", "X-Hop: 1", "-H", "Keep-Alive: timeout=9", "-H",
                       "TE: trailers", "-H", "Proxy-Connection: keep-alive"},
                      d);
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(contains(r.out, "xff=10.9.8.7, 127.0.0.1\n"));
    CHECK(contains(r.out, "xfp=http\n"));
    CHECK(contains(r.out, "xfh=127.0.0.1:" + std::to_string(proxy.port()) + "\n"));
    CHECK(contains(r.out, "via=1.1 gantry\n"));
    CHECK(contains(r.out, "x_hop=\n"));
    CHECK(contains(r.out, "te=\n"));
    CHECK(contains(r.out, "keep_alive=\n"));
    CHECK(contains(r.out, "proxy_connection=\n"));
  }

  SUBCASE("HEAD of a 1 GiB file returns at once with its length") {
    auto start = clock::now();
    auto r = run_curl({"-I", url(proxy, "/static/big.bin")}, after(10s));
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(has_header_line(r.out, "Content-Length", std::to_string(gib)));
    CHECK(clock::now() - start < 5s);
  }

  SUBCASE("204 No Content") {
    auto r = run_curl({"-o", "/dev/null", "-w", "%{http_code}", url(proxy, "/empty")}, after(10s));
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(r.out == "204");
  }

  SUBCASE("five curl runs share one upstream connection") {
    for (int i = 0; i < 5; ++i) {
      auto r = run_curl({url(proxy, "/hello")}, d);
      INFO(diagnose(r));
      CHECK(r.out == "hello from nginx\n");
    }
    REQUIRE(nginx.wait_for_access_log(5, after(5s)));
    CHECK(distinct(nginx.access_log(), "connection") == 1);
  }

  SUBCASE("one curl, several URLs, one client connection") {
    auto r = run_curl(
        {"-w", "%{http_code} %{num_connects}\\n", "-o", "/dev/null", "-o", "/dev/null", "-o",
         "/dev/null", url(proxy, "/hello"), url(proxy, "/empty"), url(proxy, "/static/small.txt")},
        d);
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(r.out == "200 1\n204 0\n200 0\n");
  }

  SUBCASE("a chunked upload arrives whole") {
    auto source = files.write("upload.bin", pattern_bytes(0, 3 << 20));
    auto r = run_curl({"-T", source.string(), "-H", "Transfer-Encoding: chunked", "-o", "/dev/null",
                       "-w", "%{http_code}", url(proxy, "/dav/chunked.bin")},
                      d);
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(r.out == "201");
    CHECK(read_file(nginx.dir() / "www/dav/chunked.bin") == read_file(source));
  }

  SUBCASE("Expect: 100-continue is answered before curl sends the body") {
    auto source = files.write("upload.bin", pattern_bytes(0, 2 << 20));
    // curl would send the body anyway after --expect100-timeout: make that long, and check
    // that the 100 came.
    auto r =
        run_curl({"-v", "-T", source.string(), "-H", "Expect: 100-continue", "--expect100-timeout",
                  "30", "-o", "/dev/null", "-w", "%{http_code}", url(proxy, "/dav/continued.bin")},
                 d);
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(contains(r.err, "< HTTP/1.1 100 Continue"));
    CHECK(r.out == "201");
    CHECK(read_file(nginx.dir() / "www/dav/continued.bin") == read_file(source));
    REQUIRE(nginx.wait_for_access_log(1, after(5s)));
    CHECK(nginx.access_log().at(0).at("expect") == "-");
  }

  SUBCASE("a gzipped, chunked download arrives whole") {
    std::string text;
    for (int i = 0; text.size() < (2u << 20); ++i) text += "line " + std::to_string(i) + "\n";
    nginx.dir().write("www/gz/text.txt", text);
    auto saved = files / "text.txt";
    auto r = run_curl({"--compressed", "-D", (files / "headers.txt").string(), "-o", saved.string(),
                       url(proxy, "/gz/text.txt")},
                      d);
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(has_header_line(read_file(files / "headers.txt"), "Content-Encoding", "gzip"));
    CHECK(read_file(saved) == text);
  }
}

TEST_CASE("curl and NGINX: 1 GiB each way through gantryd with flat memory") {
  nginx_server nginx{{.big_file_size = gib, .extra_server = {}}};
  gantryd proxy{{.upstreams = {nginx.address()}, .workers = 2}};
  temp_dir files{"curl-big"};
  // Warm up both workers' paths before taking the baseline.
  for (int i = 0; i < 4; ++i) CHECK(get(proxy.port(), "/hello").status() == 200);
  auto before = proxy.memory();
  auto start = clock::now();

  SUBCASE("download") {
    auto r = run_curl(
        {"-o", "/dev/null", "-w", "%{http_code} %{size_download}", url(proxy, "/static/big.bin")},
        after(120s));
    auto seconds = std::chrono::duration<double>(clock::now() - start).count();
    auto peak = proxy.memory();
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(r.out == "200 " + std::to_string(gib));
    MESSAGE("1 GiB download in ", seconds, " s; gantryd VmHWM ", mib(before.hwm), " -> ",
            mib(peak.hwm), " MiB (growth ", mib(peak.hwm - before.hwm), " MiB)");
    CHECK(peak.hwm - before.hwm < (64ull << 20));
  }

  SUBCASE("upload") {
    auto source = files.sparse_file("big.bin", gib);
    auto r = run_curl({"-T", source.string(), "-o", "/dev/null", "-w",
                       "%{http_code} %{size_upload}", url(proxy, "/dav/big.bin")},
                      after(120s));
    auto seconds = std::chrono::duration<double>(clock::now() - start).count();
    auto peak = proxy.memory();
    INFO(diagnose(r));
    CHECK(r.status.ok());
    CHECK(r.out == "201 " + std::to_string(gib));
    std::error_code ec;
    CHECK(std::filesystem::file_size(nginx.dir() / "www/dav/big.bin", ec) == gib);
    MESSAGE("1 GiB upload in ", seconds, " s; gantryd VmHWM ", mib(before.hwm), " -> ",
            mib(peak.hwm), " MiB (growth ", mib(peak.hwm - before.hwm), " MiB)");
    CHECK(peak.hwm - before.hwm < (64ull << 20));
  }
}
