// The harness checked against the real peers alone, without gantryd: when one of these fails,
// the proxy tests' failures say nothing about gantryd.
#include <doctest/doctest.h>

#include <signal.h>

#include "support/curl.hpp"
#include "support/deadline.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/stub_upstream.hpp"
#include "support/tcp_client.hpp"

using namespace gantry::testing;
using namespace std::chrono_literals;

TEST_CASE("harness: child processes") {
  SUBCASE("output, readiness line and exit code") {
    child_process child{{.argv = {"/bin/sh", "-c", "echo one; echo ready 42; echo err >&2; exit 3"},
                         .env = {},
                         .pass_fds = {}}};
    auto line = child.wait_for_line("ready ", after(5s));
    REQUIRE(line);
    CHECK(*line == "ready 42");
    auto status = child.wait(after(5s));
    REQUIRE(status);
    CHECK(status->exited);
    CHECK(status->code == 3);
    CHECK(child.wait_for_output_end(after(5s)));
    CHECK(child.stderr_text() == "err\n");
  }
  SUBCASE("signals, memory and descriptors") {
    child_process child{{.argv = {"/bin/sleep", "30"}, .env = {}, .pass_fds = {}}};
    CHECK(child.running());
    CHECK(child.memory().hwm > 0);
    // stdin, stdout, stderr: nothing of ours leaked. posix_spawn returns once the child is in
    // its exec, which closes the close-on-exec descriptors a moment later: wait for that.
    CHECK(eventually([&] { return child.fd_count() == 3; }, after(5s)));
    CHECK(child.send_signal(SIGTERM));
    auto status = child.wait(after(5s));
    REQUIRE(status);
    CHECK_FALSE(status->exited);
    CHECK(status->signal == SIGTERM);
  }
  SUBCASE("a command that overruns its deadline is killed") {
    auto r = run_command({.argv = {"/bin/sleep", "30"}, .env = {}, .pass_fds = {}}, after(200ms));
    CHECK(r.timed_out);
    CHECK(r.status.signal == SIGKILL);
  }
}

TEST_CASE("harness: nginx and curl") {
  nginx_server nginx;
  SUBCASE("raw client, keep-alive and pipelining") {
    tcp_client client{nginx.port()};
    auto d = after(5s);
    REQUIRE(client.send(make_request("GET", "/hello") + make_request("GET", "/empty") +
                            make_request("HEAD", "/hello"),
                        d));
    auto hello = client.read_response(d);
    CHECK(hello.status() == 200);
    CHECK(hello.body == "hello from nginx\n");
    auto empty = client.read_response(d);
    CHECK(empty.status() == 204);
    auto head = client.read_response(d, {.head_request = true});
    CHECK(head.status() == 200);
    CHECK(head.complete);
    CHECK(head.body.empty());
    REQUIRE(nginx.wait_for_access_log(3, d));
    CHECK(distinct(nginx.access_log(), "connection") == 1);
  }
  SUBCASE("curl") {
    auto r = run_curl({"http://" + nginx.address() + "/echo", "-H", "X-Forwarded-For: 10.0.0.1"},
                      after(10s));
    CHECK_FALSE(r.timed_out);
    CHECK(r.status.ok());
    CHECK(r.out.find("xff=10.0.0.1\n") != std::string::npos);
  }
}

TEST_CASE("harness: stub upstream") {
  stub_upstream stub{stub::echo()};
  tcp_client client{stub.port()};
  auto d = after(5s);
  REQUIRE(client.send(make_request("POST", "/a", {"Transfer-Encoding: chunked"}) +
                          make_chunked({"hello ", "world"}, {"X-Trailer: yes"}),
                      d));
  auto r = client.read_response(d);
  CHECK(r.status() == 200);
  CHECK(r.body == "POST /a");
  CHECK(r.header("X-Stub-Connection") == "0");
  REQUIRE(stub.wait_for_complete_requests(1, d));
  auto requests = stub.requests();
  CHECK(requests[0].body == "hello world");
  CHECK(requests[0].chunked);
  CHECK(requests[0].trailers.get("X-Trailer") == "yes");
  client.close();
  CHECK(stub.wait_for_peer_closes(1, d));
  CHECK(stub.errors().empty());
}
