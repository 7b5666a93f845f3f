// The test kit through its umbrella include, as a host's tests use it.
#include "gantry/testing.hpp"

#include <doctest/doctest.h>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "gantry/policy/chain.hpp"

using namespace std::chrono_literals;
using gantry::testing::exchange_builder;
using gantry::testing::fake_clock;
using gantry::testing::run_awaitable;

namespace {

asio::awaitable<int> answer_later() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return 42;
}

asio::awaitable<void> fail_later() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::logic_error("inside the coroutine");
}

asio::awaitable<void> never_finish() {
  asio::steady_timer timer{co_await asio::this_coro::executor, std::chrono::hours{1}};
  co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("policy testing: run_awaitable returns results and rethrows in the test thread") {
  CHECK(run_awaitable(answer_later()) == 42);
  CHECK_THROWS_WITH_AS(run_awaitable(fail_later()), "inside the coroutine", std::logic_error);
  CHECK_THROWS_AS(run_awaitable(never_finish(), 20ms), std::runtime_error);

  asio::io_context io;
  CHECK(run_awaitable(io, answer_later()) == 42);
  CHECK(run_awaitable(io, answer_later()) == 42);  // the same context, again
}

TEST_CASE("policy testing: the fake clock moves only when told, both clocks together") {
  fake_clock clock;
  auto t0 = clock.now();
  auto w0 = clock.system_now();
  CHECK(t0 != gantry::policy::clock::time_point{});
  CHECK(clock.now() == t0);
  clock.advance(1500ms);
  CHECK(clock.now() - t0 == 1500ms);
  CHECK(clock.system_now() - w0 == 1500ms);
  clock.set(t0);
  CHECK(clock.now() == t0);
  CHECK(std::chrono::system_clock::to_time_t(w0) == 1704067200);
}

TEST_CASE("policy testing: the exchange builder fills in the request, params and clock") {
  fake_clock clock;
  auto ex = exchange_builder{}
                .method(gantry::http::method::put)
                .target("/v1/items/9")
                .header("Host", "example.com")
                .header("X-Two", "a")
                .header("x-two", "b")
                .param("item", "9")
                .param("kind", "box")
                .consumer("acme")
                .body("one")
                .body("two")
                .clock(clock)
                .build();
  CHECK(ex->request.method == gantry::http::method::put);
  CHECK(ex->request.target == "/v1/items/9");
  CHECK(ex->request.fields.count("X-Two") == 2);
  CHECK(ex->param("item") == "9");
  CHECK(ex->param("kind") == "box");
  CHECK_FALSE(ex->param("nope").has_value());
  CHECK(ex->consumer == "acme");
  CHECK(ex->timings.start == clock.now());
  CHECK(&ex->clock() == &clock);
  CHECK(ex.request_body().size() == 2);
}

TEST_CASE("policy testing: the runner plays the upstream when nothing answers") {
  gantry::policy::chain empty;
  auto ex = exchange_builder{}.target("/x").body("a").body("b").build();
  auto r = gantry::testing::run(empty, ex,
                                {.status = static_cast<gantry::http::status>(202),
                                 .headers = {{"X-Up", "1"}},
                                 .body = {"o", "k"}});
  CHECK(r.forwarded);
  CHECK(r.upstream_request.target == "/x");
  CHECK(r.upstream_body == "ab");
  CHECK(r.response.status == static_cast<gantry::http::status>(202));
  CHECK(r.response.fields.get("X-Up") == "1");
  CHECK(r.body == "ok");
  CHECK_FALSE(r.local);
  CHECK(ex->origin() == gantry::policy::response_origin::upstream);
  auto text = gantry::testing::describe(r);
  CHECK(text.find("> GET /x") != std::string::npos);
  CHECK(text.find("< upstream 202") != std::string::npos);
}

namespace {

using gantry::policy::body_chunk;
using gantry::policy::exchange;
using gantry::policy::verdict;

// Keeps every body piece it sees, as "data" or "data$" for the end_of_stream piece, and
// answers on the piece holding `answer_on`, when set.
struct piece_recorder {
  std::vector<std::string>* request;
  std::vector<std::string>* response;
  std::string answer_on{};
  verdict seen(std::vector<std::string>& into, exchange& ex, const body_chunk& c) const {
    into.push_back(std::string{c.data} + (c.end_of_stream ? "$" : ""));
    if (!answer_on.empty() && c.data == answer_on)
      return ex.respond(gantry::http::status::payload_too_large, "no\n", "text/plain");
    return verdict::continue_;
  }
  verdict on_request_body(exchange& ex, body_chunk& c) const { return seen(*request, ex, c); }
  verdict on_response_body(exchange& ex, body_chunk& c) const { return seen(*response, ex, c); }
};

struct logs {
  int* count;
  void on_log(exchange&) const { ++*count; }
};

}  // namespace

TEST_CASE("policy testing: body phases see each piece once, the last one marked, as the gateway") {
  std::vector<std::string> request, response;
  gantry::policy::chain c;
  c.add(piece_recorder{&request, &response});
  auto ex = exchange_builder{}.method(gantry::http::method::post).body("a").body("b").build();
  auto r = gantry::testing::run(c, ex, {.status = gantry::http::status::ok, .body = {"x", "y"}});
  CHECK(request == std::vector<std::string>{"a", "b$"});
  CHECK(response == std::vector<std::string>{"x", "y$"});
  CHECK(r.upstream_body == "ab");
  CHECK(r.body == "xy");
}

TEST_CASE("policy testing: a request body answer keeps the whole request from the upstream") {
  std::vector<std::string> request, response;
  int logged = 0;
  gantry::policy::chain c;
  c.add(piece_recorder{&request, &response, "b"}).add(logs{&logged});
  auto ex = exchange_builder{}.method(gantry::http::method::post).body("a").body("b").build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.request_body == verdict::respond);
  CHECK_FALSE(r.forwarded);  // the head waited for the first write, which never came
  CHECK(r.upstream_body.empty());
  CHECK(r.local);
  CHECK(r.response.status == gantry::http::status::payload_too_large);
  CHECK(r.body == "no\n");
  CHECK(response.empty());  // the answering policy sees no response phase
  CHECK(logged == 1);
}

TEST_CASE("policy testing: what the gateway answers 500 to, the runner answers 500 to") {
  int logged = 0;
  SUBCASE("a policy throws") {
    struct thrower {
      verdict on_request_head(exchange&) const { throw std::runtime_error("boom"); }
    };
    gantry::policy::chain c;
    c.add(logs{&logged}).add(thrower{});
    auto ex = exchange_builder{}.build();
    auto r = gantry::testing::run(c, ex);
    CHECK_FALSE(r.forwarded);
    CHECK(r.response.status == gantry::http::status::internal_server_error);
    CHECK(logged == 1);
  }
  SUBCASE("a policy leaves a CR in the head") {
    struct injector {
      verdict on_request_head(exchange& ex) const {
        ex.request.fields.add("X-Bad", "a\r\nInjected: 1");
        return verdict::continue_;
      }
    };
    gantry::policy::chain c;
    c.add(logs{&logged}).add(injector{});
    auto ex = exchange_builder{}.build();
    auto r = gantry::testing::run(c, ex);
    CHECK_FALSE(r.forwarded);
    CHECK(r.response.status == gantry::http::status::internal_server_error);
    CHECK(logged == 1);
  }
}

TEST_CASE("policy testing: a local answer with no body reaches no response body phase") {
  std::vector<std::string> request, response;
  struct no_content {
    verdict on_request_head(exchange& ex) const {
      return ex.respond(gantry::http::status::no_content);
    }
  };
  gantry::policy::chain c;
  c.add(piece_recorder{&request, &response}).add(no_content{});
  auto ex = exchange_builder{}.build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.local);
  CHECK(r.response.status == gantry::http::status::no_content);
  CHECK_FALSE(r.response_body.has_value());
  CHECK(response.empty());
}

namespace {

// Trailers phases that leave a trace of their order, edit both directions, and answer when
// asked to.
struct trailer_probe {
  std::string name;
  std::vector<std::string>* trace;
  bool answer_request = false;
  verdict on_request_trailers(exchange& ex) const {
    trace->push_back(name + ":request_trailers");
    ex.request_trailers.add("X-By", name);
    if (answer_request) return ex.respond(gantry::http::status::bad_request, "bad trailer\n");
    return verdict::continue_;
  }
  verdict on_response_trailers(exchange& ex) const {
    trace->push_back(name + ":response_trailers");
    ex.response_trailers.add("X-By", name);
    return verdict::continue_;
  }
};

}  // namespace

TEST_CASE("policy testing: trailers phases run in each direction's order and edit the trailers") {
  std::vector<std::string> trace;
  gantry::policy::chain c;
  c.add(trailer_probe{"A", &trace}).add(trailer_probe{"B", &trace});
  auto ex = exchange_builder{}
                .method(gantry::http::method::post)
                .body("x")
                .trailer("X-Client", "c")
                .build();
  auto r = gantry::testing::run(c, ex,
                                {.status = gantry::http::status::ok,
                                 .headers = {},
                                 .body = {"y"},
                                 .trailers = {{"X-Up", "u"}}});
  CHECK(trace == std::vector<std::string>{"A:request_trailers", "B:request_trailers",
                                          "B:response_trailers", "A:response_trailers"});
  CHECK(r.request_trailers == verdict::continue_);
  CHECK(r.response_trailers == verdict::continue_);
  CHECK(r.upstream_trailers.get("X-Client") == "c");
  CHECK(r.upstream_trailers.count("X-By") == 2);
  CHECK(r.trailers.get("X-Up") == "u");
  CHECK(r.trailers.count("X-By") == 2);
}

TEST_CASE("policy testing: a request trailers answer keeps the request from the upstream") {
  std::vector<std::string> trace;
  gantry::policy::chain c;
  c.add(trailer_probe{"A", &trace}).add(trailer_probe{"B", &trace, true});
  auto ex = exchange_builder{}.method(gantry::http::method::post).body("x").build();
  auto r = gantry::testing::run(c, ex);
  CHECK(r.request_trailers == verdict::respond);
  CHECK_FALSE(r.forwarded);
  CHECK(r.local);
  CHECK(r.response.status == gantry::http::status::bad_request);
  // Only A passed the request on: only A sees the local answer's trailers phase.
  CHECK(trace == std::vector<std::string>{"A:request_trailers", "B:request_trailers",
                                          "A:response_trailers"});
}
