#include "gantry/policy/access_log.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "clock_steps.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/policy/request_id.hpp"
#include "gantry/policy/static_chain.hpp"
#include "gantry/testing/exchange_builder.hpp"
#include "gantry/testing/fake_clock.hpp"
#include "gantry/testing/runner.hpp"

using gantry::http::status;
using gantry::policy::access_log;
using gantry::policy::access_log_config;
using gantry::policy::chain;
using gantry::testing::exchange_builder;
using gantry::testing::fake_clock;
using nlohmann::json;
using nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

// A file under the temporary directory, removed when the test is done.
struct temp_file {
  std::filesystem::path path;
  explicit temp_file(std::string_view name)
      : path{std::filesystem::temp_directory_path() /
             ("gantry_access_log_" + std::string{name} + "_" + std::to_string(::getpid()))} {
    std::filesystem::remove(path);
  }
  ~temp_file() { std::filesystem::remove(path); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every line, each checked to be one JSON object.
std::vector<ordered_json> read_json_lines(const std::filesystem::path& path) {
  std::vector<ordered_json> objects;
  for (const std::string& line : read_lines(path)) {
    CAPTURE(line);
    REQUIRE(json::accept(line));
    objects.push_back(ordered_json::parse(line));
    REQUIRE(objects.back().is_object());
  }
  return objects;
}

std::vector<std::string> keys(const ordered_json& object) {
  std::vector<std::string> out;
  for (const auto& item : object.items()) out.push_back(item.key());
  return out;
}

// One exchange through `c` with everything an access log reads filled in.
template <class Chain>
gantry::testing::run_result run_full(const Chain& c, fake_clock& clock, std::string target,
                                     std::string request_id = "abc-123") {
  auto b = exchange_builder{}
               .method(gantry::http::method::post)
               .target(std::move(target))
               .consumer("ada")
               .clock(clock);
  if (!request_id.empty()) b.header("X-Request-Id", request_id);
  auto ex = b.build();
  ex->route_name = "users";
  ex->cluster = "users-v2";
  ex->endpoint = "10.0.0.7:8080";
  ex->request_bytes = 112;
  ex->response_bytes = 5120;
  ex->downstream.peer_address = "192.0.2.7";
  ex->downstream.peer_port = 40000;
  return gantry::testing::run(c, ex,
                              {.status = static_cast<status>(201), .headers = {}, .body = {}});
}

}  // namespace

TEST_CASE("policy access_log: one JSON line per exchange with every field") {
  temp_file file{"all"};
  fake_clock clock;
  clock.advance(250ms);  // 2024-01-01T00:00:00.250Z
  access_log log{{.destination = file.path.string()}};
  chain c;
  c.add(clock_kit::clock_steps{&clock, 10ms, 2500us}).add(log);
  run_full(c, clock, "/users/7?verbose=1");
  // The next one starts 1 h 2 min 3 s later, at .2632 s (written with milliseconds, floored).
  clock.advance(3723s);
  clock.advance(700us);
  run_full(c, clock, "/", "");
  log.flush();

  auto lines = read_json_lines(file.path);
  REQUIRE(lines.size() == 2);
  const ordered_json& a = lines[0];
  std::vector<std::string> all(access_log::field_names().begin(), access_log::field_names().end());
  CHECK(keys(a) == all);
  CHECK(a["time"] == "2024-01-01T00:00:00.250Z");
  CHECK(a["method"] == "POST");
  CHECK(a["path"] == "/users/7?verbose=1");
  CHECK(a["route"] == "users");
  CHECK(a["cluster"] == "users-v2");
  CHECK(a["endpoint"] == "10.0.0.7:8080");
  CHECK(a["status"] == 201);
  CHECK(a["bytes_in"] == 112);
  CHECK(a["bytes_out"] == 5120);
  CHECK(a["duration_ms"].get<double>() == doctest::Approx(12.5));
  CHECK(a["upstream_ms"].get<double>() == doctest::Approx(10.0));
  CHECK(a["request_id"] == "abc-123");
  CHECK(a["consumer"] == "ada");
  CHECK(a["client"] == "192.0.2.7");
  CHECK(a["scheme"] == "http");

  const ordered_json& b = lines[1];
  CHECK(b["time"] == "2024-01-01T01:02:03.263Z");
  CHECK(b["path"] == "/");
  CHECK(b["request_id"].is_null());

  // Three decimals, as written.
  auto raw = read_lines(file.path);
  CHECK(raw[0].find("\"duration_ms\":12.500,\"upstream_ms\":10.000,") != std::string::npos);
}

TEST_CASE("policy access_log: absent values are null") {
  temp_file file{"nulls"};
  access_log log{{.destination = file.path.string()}};
  chain c;
  c.add(log);
  auto ex = exchange_builder{}.build();
  // No response at all: the client went away before one existed.
  (void)c.run_request_head(*ex);
  c.run_log(*ex);
  log.flush();
  auto lines = read_json_lines(file.path);
  REQUIRE(lines.size() == 1);
  for (const char* name : {"route", "cluster", "endpoint", "status", "upstream_ms", "request_id",
                           "consumer", "client"}) {
    CAPTURE(name);
    CHECK(lines[0].at(name).is_null());
  }
  CHECK(lines[0]["method"] == "GET");
  CHECK(lines[0]["bytes_in"] == 0);
}

TEST_CASE("policy access_log: why an exchange failed") {
  temp_file file{"error"};
  access_log log{{.destination = file.path.string(), .fields = {"status", "error"}}};
  chain c;
  c.add(log);
  auto ex = exchange_builder{}.build();
  (void)c.run_request_head(*ex);
  ex->error = std::make_error_code(std::errc::connection_refused);
  ex->respond(status::bad_gateway);
  c.run_log(*ex);
  ex->reset();
  CHECK(!ex->error);  // the next exchange starts without one
  (void)c.run_request_head(*ex);
  c.run_log(*ex);
  log.flush();
  const auto lines = read_lines(file.path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "{\"status\":502,\"error\":\"" +
                        std::make_error_code(std::errc::connection_refused).message() + "\"}");
  CHECK(lines[1] == "{\"status\":null,\"error\":null}");
}

TEST_CASE("policy access_log: a local response is logged, with the id request_id gave it") {
  temp_file file{"local"};
  fake_clock clock;
  access_log log{{.destination = file.path.string()}};
  chain c;
  c.add(clock_kit::clock_steps{&clock, 1ms, 1ms})
      .add(gantry::policy::request_id_config{})
      .add(log)
      .add(gantry::policy::direct_response_config{.status = status::not_found, .body = "no\n"});
  auto ex = exchange_builder{}.target("/missing").clock(clock).build();
  auto r = gantry::testing::run(c, ex);
  REQUIRE(r.local);
  log.flush();

  auto lines = read_json_lines(file.path);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["status"] == 404);
  CHECK(lines[0]["path"] == "/missing");
  CHECK(lines[0]["upstream_ms"].is_null());  // the head was local
  CHECK(lines[0]["cluster"].is_null());
  CHECK(lines[0]["duration_ms"].get<double>() == doctest::Approx(2.0));
  REQUIRE(r.response.fields.get("X-Request-Id").has_value());
  CHECK(lines[0]["request_id"] == std::string{*r.response.fields.get("X-Request-Id")});
  CHECK(lines[0]["request_id"].get<std::string>().size() == 32);
}

TEST_CASE("policy access_log: the request id comes from the configured header") {
  temp_file file{"header"};
  access_log log{{.destination = file.path.string(), .request_id_header = "X-Correlation-Id"}};
  gantry::policy::static_chain<gantry::policy::request_id, access_log> c{
      gantry::policy::request_id_config{.header = "X-Correlation-Id"}, log};
  auto ex = exchange_builder{}.header("X-Request-Id", "not-this-one").build();
  auto r = gantry::testing::run(c, ex);
  log.flush();
  auto lines = read_json_lines(file.path);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["request_id"] == std::string{*r.upstream_request.fields.get("X-Correlation-Id")});
}

TEST_CASE("policy access_log: hostile values are escaped and the line stays valid JSON") {
  temp_file file{"hostile"};
  access_log log{{.destination = file.path.string()}};
  chain c;
  c.add(log);

  struct row {
    std::string raw;
    std::string decoded;  // what a JSON reader gets back
  };
  const row rows[] = {
      {"/q\"uote\\back", "/q\"uote\\back"},
      {"/ctl\n\r\t\b\f\x01\x1f\x7f", "/ctl\n\r\t\b\f\x01\x1f\x7f"},
      {std::string{"/nul\0x", 6}, std::string{"/nul\0x", 6}},
      {"/utf8-\xc3\xa9-\xe2\x9c\x93-\xf0\x9f\x98\x80",
       "/utf8-\xc3\xa9-\xe2\x9c\x93-\xf0\x9f\x98\x80"},
      // Each byte outside well-formed UTF-8 becomes the code point of its value.
      {"/bad-\xff", "/bad-\xc3\xbf"},
      {"/lone-\x80-tail", "/lone-\xc2\x80-tail"},
      {"/cut-\xe2\x9c", "/cut-\xc3\xa2\xc2\x9c"},
      {"/overlong-\xc0\xaf", "/overlong-\xc3\x80\xc2\xaf"},
      {"/surrogate-\xed\xa0\x80", "/surrogate-\xc3\xad\xc2\xa0\xc2\x80"},
      {"/too-big-\xf4\x90\x80\x80", "/too-big-\xc3\xb4\xc2\x90\xc2\x80\xc2\x80"},
      {"/injected\",\"status\":200,\"x\":\"", "/injected\",\"status\":200,\"x\":\""},
  };
  for (const row& r : rows) {
    auto ex = exchange_builder{}.target(r.raw).consumer(r.raw).build();
    ex->route_name = r.raw;
    gantry::testing::run(c, ex);
  }
  log.flush();
  auto lines = read_json_lines(file.path);
  REQUIRE(lines.size() == std::size(rows));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(i);
    CHECK(lines[i]["path"] == rows[i].decoded);
    CHECK(lines[i]["consumer"] == rows[i].decoded);
    CHECK(lines[i]["route"] == rows[i].decoded);
    CHECK(lines[i]["status"] == 200);
  }
  // No raw control byte reaches the file: one line per exchange whatever the input.
  CHECK(read_lines(file.path).size() == std::size(rows));
}

TEST_CASE("policy access_log: every byte value, and random bytes, give valid JSON") {
  temp_file file{"bytes"};
  access_log log{{.destination = file.path.string(), .fields = {"path"}}};
  chain c;
  c.add(log);
  std::vector<std::string> expected;
  for (int b = 0; b < 256; ++b) {
    std::string raw(1, static_cast<char>(b));
    auto ex = exchange_builder{}.target(raw).build();
    gantry::testing::run(c, ex);
    // A lone byte is either ASCII or not UTF-8: then it reads back as U+0080 to U+00FF.
    if (b < 0x80)
      expected.push_back(raw);
    else
      expected.push_back(
          {static_cast<char>(0xc0 | (b >> 6)), static_cast<char>(0x80 | (b & 0x3f))});
  }
  std::mt19937 random{42};
  for (int i = 0; i < 2000; ++i) {
    std::string raw(random() % 24, '\0');
    for (char& ch : raw) ch = static_cast<char>(random() % 256);
    auto ex = exchange_builder{}.target(raw).build();
    gantry::testing::run(c, ex);
  }
  log.flush();
  auto lines = read_json_lines(file.path);  // each one checked to parse
  REQUIRE(lines.size() == 256 + 2000);
  for (int b = 0; b < 256; ++b) {
    CAPTURE(b);
    CHECK(lines[static_cast<std::size_t>(b)]["path"] == expected[static_cast<std::size_t>(b)]);
  }
}

TEST_CASE("policy access_log: the configured fields, in the configured order") {
  temp_file file{"select"};
  fake_clock clock;
  access_log log{
      {.destination = file.path.string(), .fields = {"status", "method", "request_id", "time"}}};
  chain c;
  c.add(log);
  run_full(c, clock, "/x");
  log.flush();
  auto lines = read_json_lines(file.path);
  REQUIRE(lines.size() == 1);
  CHECK(keys(lines[0]) == std::vector<std::string>{"status", "method", "request_id", "time"});
  CHECK(lines[0]["status"] == 201);
  CHECK(lines[0]["time"] == "2024-01-01T00:00:00.000Z");
}

TEST_CASE("policy access_log: unknown and repeated fields are configuration errors") {
  CHECK_THROWS_WITH_AS(
      access_log({.destination = "/dev/null", .fields = {"status", "bogus", "method", "nope"}}),
      doctest::Contains("unknown field names 'bogus', 'nope'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(access_log({.destination = "/dev/null", .fields = {"status", "status"}}),
                       doctest::Contains("repeated field names 'status'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(access_log({.destination = "/dev/null", .request_id_header = "bad id"}),
                       doctest::Contains("request_id_header"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      access_log({.destination = "/dev/null", .flush_bytes = 100, .max_buffered_bytes = 10}),
      doctest::Contains("max_buffered_bytes"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(access_log({.destination = ""}), doctest::Contains("destination"),
                       std::invalid_argument);
}

TEST_CASE("policy access_log: a file destination is appended to, and must be openable") {
  temp_file file{"append"};
  {
    std::ofstream out{file.path};
    out << "an earlier line\n";
  }
  {
    chain c;
    c.add(access_log_config{.destination = file.path.string(), .fields = {"path"}});
    for (int i = 0; i < 3; ++i) {
      std::string target = std::to_string(i);
      target.insert(target.begin(), '/');  // not "/" + ...: GCC 12's -Wrestrict misfires on it
      auto ex = exchange_builder{}.target(target).build();
      gantry::testing::run(c, ex);
    }
  }  // the last copy of the policy writes what is left
  auto lines = read_lines(file.path);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "an earlier line");
  CHECK(lines[1] == R"({"path":"/0"})");
  CHECK(lines[3] == R"({"path":"/2"})");

  CHECK_THROWS_WITH_AS(access_log({.destination = "/nonexistent-dir/access.log"}),
                       doctest::Contains("cannot open '/nonexistent-dir/access.log'"),
                       std::invalid_argument);
}

TEST_CASE("policy access_log: stdout is the default destination") {
  temp_file file{"stdout"};
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  REQUIRE(saved >= 0);
  const int fd = ::open(file.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  ::dup2(fd, STDOUT_FILENO);
  ::close(fd);
  {
    access_log log{{.fields = {"method"}}};
    chain c;
    c.add(log);
    auto ex = exchange_builder{}.method(gantry::http::method::delete_).build();
    gantry::testing::run(c, ex);
  }
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  CHECK(read_lines(file.path) == std::vector<std::string>{R"({"method":"DELETE"})"});
}

TEST_CASE("policy access_log: lines from many threads arrive whole, and all of them") {
  temp_file file{"threads"};
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  {
    access_log log{{.destination = file.path.string(),
                    .fields = {"path", "consumer"},
                    .flush_interval = 1ms,
                    .flush_bytes = 512}};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&log, t] {
        const access_log copy = log;  // copies share the writer
        gantry::policy::static_chain<access_log> c{copy};
        for (int i = 0; i < per_thread; ++i) {
          auto ex = exchange_builder{}
                        .target("/t" + std::to_string(t) + "/" + std::to_string(i))
                        .consumer(std::string(static_cast<std::size_t>(i % 300), 'x'))
                        .build();
          gantry::testing::run(c, ex);
        }
      });
    }
    for (auto& w : workers) w.join();
    CHECK(log.dropped_lines() == 0);
  }
  auto lines = read_json_lines(file.path);
  REQUIRE(lines.size() == threads * per_thread);
  std::vector<int> next(threads, 0);  // each thread's lines stay in its order
  for (const auto& line : lines) {
    std::string path = line["path"];
    const int t = path[2] - '0';
    REQUIRE((t >= 0 && t < threads));
    CHECK(path == "/t" + std::to_string(t) + "/" + std::to_string(next[t]));
    ++next[t];
  }
}

TEST_CASE("policy access_log: a destination slower than traffic drops lines, never blocks") {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const std::string destination = "/proc/self/fd/" + std::to_string(pipe_fds[1]);
  constexpr int total = 4000;
  std::uint64_t dropped = 0;
  std::string received;
  {
    access_log log{{.destination = destination,
                    .fields = {"path"},
                    .flush_interval = 1ms,
                    .flush_bytes = 1024,
                    .max_buffered_bytes = 4096}};
    chain c;
    c.add(log);
    // Nobody reads the pipe yet: the writer blocks once the pipe is full (64 KiB), the queue
    // fills up, and the rest is dropped while logging goes on.
    for (int i = 0; i < total; ++i) {
      auto ex = exchange_builder{}.target("/" + std::string(100, 'p')).build();
      gantry::testing::run(c, ex);
    }
    dropped = log.dropped_lines();
    CHECK(dropped > 0);
    ::close(pipe_fds[1]);  // the policy holds its own descriptor
    std::thread reader{[&] {
      char buffer[4096];
      for (::ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
        received.append(buffer, static_cast<std::size_t>(n));
    }};
    log.flush();
    c = chain{};
    { access_log gone = std::move(log); }
    reader.join();
  }
  ::close(pipe_fds[0]);
  std::size_t lines = 0;
  for (char ch : received) lines += ch == '\n';
  CHECK(lines + dropped == total);
}

TEST_CASE("policy access_log: failed writes are counted") {
  access_log log{{.destination = "/dev/full", .fields = {"path"}}};
  chain c;
  c.add(log);
  auto ex = exchange_builder{}.build();
  gantry::testing::run(c, ex);
  log.flush();
  CHECK(log.write_errors() == 1);
  CHECK(log.dropped_lines() == 0);
}
