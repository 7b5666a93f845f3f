// The example programs, started as a user would start them, in front of stub upstreams:
// each must do what its comment says.
#include <doctest/doctest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "support/process.hpp"

namespace {

using namespace gantry::testing;
using namespace std::chrono_literals;

// Concatenates with append: GCC 12 reports -Wrestrict false positives on operator+.
std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

// An example program listening on an ephemeral loopback port, read back from the line it
// prints when ready ("NAME listening on 127.0.0.1:PORT, ..."). Stopped with SIGTERM on
// destruction, after which it must exit 0 (a graceful stop).
class running_example {
 public:
  running_example(const std::string& path, std::vector<std::string> args) {
    std::vector<std::string> argv{path};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("127.0.0.1:0");
    process_ = std::make_unique<child_process>(spawn_options{.argv = argv});
    const std::string name = path.substr(path.rfind('/') + 1);
    const std::string ready = join({name, " listening on 127.0.0.1:"});
    auto line = process_->wait_for_line(ready, after(10s));
    if (!line) {
      process_->kill();
      process_->wait_for_output_end(after(2s));
      throw std::runtime_error{
          join({describe(argv), " did not become ready\nstdout: ", process_->stdout_text(),
                "\nstderr: ", process_->stderr_text()})};
    }
    port_ = static_cast<std::uint16_t>(std::stoul(line->substr(ready.size())));
  }
  ~running_example() {
    if (process_->running()) process_->kill();
  }
  running_example(const running_example&) = delete;
  running_example& operator=(const running_example&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  // SIGTERM, then how the program ended (nullopt: still running 5 s later).
  std::optional<exit_status> stop() {
    process_->send_signal(SIGTERM);
    return process_->wait(after(5s));
  }
  std::string stderr_text() const { return process_->stderr_text(); }

 private:
  std::unique_ptr<child_process> process_;
  std::uint16_t port_ = 0;
};

void check_graceful_stop(running_example& example) {
  auto status = example.stop();
  REQUIRE(status);
  CHECK_MESSAGE(status->ok(), status->describe() << "\n" << example.stderr_text());
}

}  // namespace

TEST_CASE("examples: custom_policy answers 401 without a known API key, proxies with one") {
  stub_upstream up{stub::echo()};
  running_example example{GANTRY_TEST_CUSTOM_POLICY, {up.address()}};
  auto d = after(10s);
  tcp_client c{example.port(), d};
  auto ask = [&](const std::string& request) {
    REQUIRE(c.send(request, d));
    return c.read_response(d);
  };

  auto r = ask(make_request("GET", "/hello"));
  CHECK(r.status() == 401);
  CHECK(r.header("WWW-Authenticate") == "ApiKey");
  CHECK(r.body == "missing or unknown API key\n");
  CHECK(r.keep_alive);  // no request body was left unread

  r = ask(make_request("GET", "/hello", {"X-Api-Key: key-eve"}));
  CHECK(r.status() == 401);
  CHECK(up.request_count() == 0);

  r = ask(make_request("GET", "/hello", {"X-Api-Key: key-ada"}));
  CHECK(r.status() == 200);
  CHECK(r.body == "GET /hello");
  r = ask(make_request("POST", "/orders", {"X-Api-Key: key-lin"}, "{}"));
  CHECK(r.status() == 200);
  CHECK(r.body == "POST /orders");
  auto seen = up.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].header("X-Consumer") == "ada");
  CHECK(seen[0].header("X-Api-Key").empty());  // the key stays at the gateway
  CHECK(seen[1].header("X-Consumer") == "lin");
  CHECK(seen[1].body == "{}");

  // A route that does not list the policy needs no key.
  r = ask(make_request("GET", "/health"));
  CHECK(r.status() == 200);
  CHECK(r.body == "ok\n");
  CHECK(up.request_count() == 2);

  // Refused with its body unread: the answer closes the connection.
  r = ask(make_request("POST", "/orders", {}, "{}"));
  CHECK(r.status() == 401);
  CHECK(r.header("Connection") == "close");
  CHECK(c.wait_for_close(d));
  CHECK(up.request_count() == 2);

  check_graceful_stop(example);
}

TEST_CASE("examples: canary splits 90/10 and keeps each session cookie on one cluster") {
  stub_upstream stable{stub::fixed(200, "stable")};
  stub_upstream canary{stub::fixed(200, "canary")};
  running_example example{GANTRY_TEST_CANARY, {stable.address(), canary.address()}};
  auto d = after(30s);

  constexpr int sessions = 100;
  std::map<std::string, int> clients_on;  // cluster -> sessions it serves
  tcp_client kept{example.port(), d};
  for (int i = 0; i < sessions; ++i) {
    const std::string session = join({"s", std::to_string(i)});
    const std::string cookie = join({"Cookie: session=", session});
    const std::string among_others = join({"Cookie: theme=dark; session=", session, "; lang=en"});
    std::set<std::string> served;
    // Three times on one keep-alive connection, once on a fresh one, once among other
    // cookies: the cookie alone decides.
    for (int again = 0; again < 3; ++again) {
      REQUIRE(kept.send(make_request("GET", "/", {cookie}), d));
      served.insert(kept.read_response(d).body);
    }
    served.insert(fetch(example.port(), make_request("GET", "/", {cookie})).body);
    served.insert(fetch(example.port(), make_request("GET", "/", {among_others})).body);
    CHECK_MESSAGE(served.size() == 1, "session " << session << " moved between clusters");
    ++clients_on[*served.begin()];
  }
  CHECK(clients_on["stable"] + clients_on["canary"] == sessions);
  // Both clusters serve; the canary about a tenth of the sessions (the hash is fixed, so
  // this is the same count every run).
  CHECK(clients_on["canary"] >= 3);
  CHECK(clients_on["canary"] <= 25);
  CHECK(stable.request_count() == 5u * static_cast<std::size_t>(clients_on["stable"]));
  CHECK(canary.request_count() == 5u * static_cast<std::size_t>(clients_on["canary"]));

  check_graceful_stop(example);
}
