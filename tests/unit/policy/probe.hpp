#pragma once
// Test policies that record what ran, in what order, and act as a script tells them: pass,
// answer, or suspend (on asio::post or a timer) and then pass or answer.

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "gantry/policy/policy.hpp"

namespace probe_kit {

using gantry::policy::body_chunk;
using gantry::policy::exchange;
using gantry::policy::outcome;
using gantry::policy::verdict;

// What a probe does in one phase.
enum class act { pass, respond, post, timer, post_respond };

struct script {
  act request_head = act::pass;
  act request_body = act::pass;
  act response_head = act::pass;
  act response_body = act::pass;
};

using trace = std::vector<std::string>;

inline asio::awaitable<verdict> suspend(act a, exchange& ex, std::string label, std::string name,
                                        trace* log) {
  auto executor = co_await asio::this_coro::executor;
  if (a == act::timer) {
    asio::steady_timer timer{executor, std::chrono::milliseconds{1}};
    co_await timer.async_wait(asio::use_awaitable);
  } else {
    co_await asio::post(executor, asio::use_awaitable);
  }
  log->push_back(label + ":resumed");
  if (a == act::post_respond)
    co_return ex.respond(gantry::http::status::forbidden, "from " + name, "text/plain");
  co_return verdict::continue_;
}

// A policy whose phases return `outcome`: ready or pending, as its script says, per call.
struct probe {
  std::string name;
  trace* log = nullptr;
  script does{};
  bool tag_bodies = false;  // append "<name>" to every body piece it sees

  struct state {
    int calls = 0;
    std::string body;  // owns the replaced body bytes
  };

  outcome on_request_head(exchange& ex, state& s) const {
    return step("request_head", does.request_head, ex, s);
  }
  outcome on_request_body(exchange& ex, body_chunk& c, state& s) const {
    tag(c, s);
    return step("request_body", does.request_body, ex, s);
  }
  outcome on_response_head(exchange& ex, state& s) const {
    ex.response.fields.add("X-Seen-By", name);
    return step("response_head", does.response_head, ex, s);
  }
  outcome on_response_body(exchange& ex, body_chunk& c, state& s) const {
    tag(c, s);
    return step("response_body", does.response_body, ex, s);
  }
  void on_log(exchange&, state& s) const {
    log->push_back(name + ":log:" + std::to_string(s.calls));
  }

 private:
  void tag(body_chunk& c, state& s) const {
    if (!tag_bodies) return;
    s.body.assign(c.data).append("<" + name + ">");
    c.data = s.body;
  }
  outcome step(const char* phase, act a, exchange& ex, state& s) const {
    ++s.calls;
    std::string label = name + ":" + phase;
    log->push_back(label);
    switch (a) {
      case act::pass:
        return verdict::continue_;
      case act::respond:
        return ex.respond(gantry::http::status::forbidden, "from " + name, "text/plain");
      default:
        return suspend(a, ex, label, name, log);
    }
  }
};

// A policy whose phases are plain synchronous functions returning `verdict`.
struct sync_probe {
  std::string name;
  trace* log = nullptr;
  bool respond_on_request = false;

  verdict on_request_head(exchange& ex) const {
    log->push_back(name + ":request_head");
    if (respond_on_request) return ex.respond(gantry::http::status::unauthorized, "no");
    return verdict::continue_;
  }
  verdict on_response_head(exchange&) const {
    log->push_back(name + ":response_head");
    return verdict::continue_;
  }
  void on_log(const exchange&) const { log->push_back(name + ":log"); }
};

// A policy whose phases always suspend: they return `asio::awaitable<verdict>`.
struct async_probe {
  std::string name;
  trace* log = nullptr;

  asio::awaitable<verdict> on_request_head(exchange& ex) const {
    log->push_back(name + ":request_head");
    co_return co_await suspend(act::timer, ex, name + ":request_head", name, log);
  }
  asio::awaitable<verdict> on_response_head(exchange& ex) const {
    log->push_back(name + ":response_head");
    co_return co_await suspend(act::post, ex, name + ":response_head", name, log);
  }
};

}  // namespace probe_kit
