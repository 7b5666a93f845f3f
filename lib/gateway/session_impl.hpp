#pragma once
// The definitions of `session`, for the translation units that instantiate it: session.cpp
// for TCP, and the test kit's for in-memory streams.

#include "session.hpp"

#include <algorithm>
#include <array>
#include <asio/buffer.hpp>
#include <cstdio>
#include <exception>
#include <variant>

#include "gantry/core/ascii.hpp"
#include "gantry/core/async.hpp"
#include "gantry/gateway/proxy_error.hpp"
#include "gantry/http/error.hpp"
#include "gantry/http/field_syntax.hpp"
#include "gantry/http/forwarding.hpp"
#include "gantry/http/hop_by_hop.hpp"
#include "gantry/http/path_normalization.hpp"
#include "gantry/http/serializer.hpp"
#include "gantry/http/target.hpp"
#include "gantry/policy/body_chunk.hpp"
#include "gantry/policy/chain.hpp"
#include "gantry/route/path_rewrite.hpp"
#include "gantry/route/request_view.hpp"
#include "gantry/route/weighted_split.hpp"
#include "snapshot.hpp"
#include "worker.hpp"

namespace gantry::detail {
namespace {

using core::use_tuple;
using clock = core::coarse_clock;

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view via_value = "1.1 gantry";
// Body pieces up to this size are copied next to what is already queued, so a small response
// leaves in one write; bigger pieces are written straight from the read buffer.
constexpr std::size_t coalesce_limit = 4096;
// After answering "Connection: close", unread request bytes are drained this long so the
// kernel does not reset the connection before the client has read the answer.
constexpr std::chrono::milliseconds linger_time{1'000};

// The clock of an exchange that no policy sees: nothing reads its timings, and reading the
// real clock three times per exchange is not free (40-60 ns each on a VM's TSC).
class unobserved_clock final : public policy::clock {
 public:
  static const unobserved_clock instance;
  time_point now() const noexcept override { return {}; }
  system_time system_now() const noexcept override { return {}; }
};
const unobserved_clock unobserved_clock::instance;

std::error_code timed_out() noexcept { return std::make_error_code(std::errc::timed_out); }

// An I/O error on either side, as the proxy flow reports it.
std::error_code upstream_error(const std::error_code& ec) noexcept {
  return ec == timed_out() ? proxy_errc::upstream_timed_out : proxy_errc::upstream_failed;
}
std::error_code client_error(const std::error_code& ec) noexcept {
  return ec == timed_out() ? proxy_errc::client_timed_out : proxy_errc::client_gone;
}

// A non-blocking read that found nothing to read.
bool nothing_ready(const std::error_code& ec) noexcept {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

bool is_close(const std::error_code& ec) noexcept {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

// A pooled connection the upstream has closed, or on which it sent bytes nobody asked for,
// must not carry the next request: the bytes would be taken for its response. The stream's
// reuse probe tells.
//
// The probe is a system call per reuse, so it is made only for connections idle at least
// `peek_after`: under load a connection is back in use microseconds after its last response,
// before an upstream closes idle connections (seconds) — one that closes after a response says
// so with "Connection: close" and is not pooled — and bytes that came with the response were
// seen when it was read. A request sent on a connection that was closed all the same gets
// nothing back and is retried on a fresh one when it is idempotent. (Idle time is read on the
// coarse clock: a connection idle less than a kernel tick may count as idle for one, and is
// then peeked; that costs a system call, never a wrong reuse.)
constexpr std::chrono::milliseconds peek_after{1};

void report_policy_failure(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "gantry: an exchange failed with an exception: %s\n", ex.what());
  } catch (...) {
    std::fputs("gantry: an exchange failed with an unknown exception\n", stderr);
  }
}

// Policies edit heads freely; what reaches the wire must still be a head. A name that is no
// token, or a CR, LF or NUL in a value, the target or a reason phrase, would end a field or
// the head early (header injection, response splitting). `headers::writable` looks only at
// the fields added or changed since the parser filled them.
bool is_writable(http::request& req) noexcept {
  if (req.target.empty()) return false;
  for (char c : req.target)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return req.fields.writable();
}

// A response goes out whatever a policy did to it: without the fields that cannot be
// written, and with the standard reason phrase if its own cannot be.
void drop_unwritable(http::response& res) noexcept {
  if (!res.fields.writable()) {
    for (auto it = res.fields.begin(); it != res.fields.end();) {
      const http::field f = *it;
      if (http::is_writable_field(f.name, f.value))
        ++it;
      else
        it = res.fields.erase(it);
    }
  }
  if (!http::is_safe_field_value(res.reason)) res.reason.clear();
}

http::status status_of(const http::parser& parser) noexcept {
  return http::status_for(static_cast<http::errc>(parser.error().value()));
}

}  // namespace

template <net::byte_stream Stream>
session<Stream>::session(worker& owner, Stream client)
    : owner_{owner},
      client_{std::move(client)},
      request_parser_{http::parser_mode::request, owner.options().client.request_limits},
      response_parser_{http::parser_mode::response, owner.options().upstream.response_limits} {
  // The connection's facts, for every exchange on it: X-Forwarded-For and -Proto, policies
  // and the log read them.
  policy::downstream_facts& facts = exchange_.downstream;
  if (const auto peer = client_.remote_endpoint(); peer.port() != 0) {
    peer_address_ = peer.address().to_string();
    facts.peer_address = peer_address_;
    facts.peer_port = peer.port();
  }
  if (const auto local = client_.local_endpoint(); local.port() != 0) {
    local_address_ = local.address().to_string();
    facts.local_address = local_address_;
    facts.local_port = local.port();
  }
  owner_.attach(*this);
}

template <net::byte_stream Stream>
asio::awaitable<void> serve_connection(std::shared_ptr<worker> owner, Stream client) {
  session<Stream> s{*owner, std::move(client)};
  co_await s.run();
}

template <net::byte_stream Stream>
session<Stream>::~session() {
  release_upstream(false);
  return_buffers();
  owner_.detach(*this);
}

template <net::byte_stream Stream>
asio::awaitable<void> session<Stream>::run() {
  for (;;) {
    // Under load the next request is usually there whole: then no coroutine waits for it.
    head_read head = next_request_head();
    if (head == head_read::pending) head = co_await read_request_head();
    if (head != head_read::ready) {
      if (head == head_read::refused) co_await respond_plain(status_of(request_parser_));
      if (head == head_read::timed_out) co_await respond_plain(http::status::request_timeout);
      break;
    }
    ++requests_served_;
    // Each exchange runs here rather than in a coroutine of its own: a coroutine frame per
    // request costs about 250 instructions, more than most of the steps it would hold.
    const request_plan plan = plan_exchange();
    if (plan.refusal) {
      co_await respond_plain(*plan.refusal);
      break;
    }
    begin_exchange();
    after next = after::close;
    std::exception_ptr failure;
    try {
      // With no policy to run, the route's action starts at once. Not a conditional
      // expression: GCC 12 miscompiles co_await of one (frames freed twice).
      if (entry_->chain.empty())
        next = co_await route_exchange(plan);
      else
        next = co_await run_exchange(plan);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      // A policy threw (they should answer with a status instead): the client gets a 500 if
      // nothing of the response went out yet, and the log phase still runs.
      report_policy_failure(failure);
      co_await fail(http::status::internal_server_error);
      next = after::close;
    }
    end_exchange();
    if (next == after::close) break;
  }
  // Half-close, then drain what the client still sends until it closes too (bounded).
  std::error_code ec;
  client_.shutdown_send(ec);
  if (!ec && !client_timed_out_) {
    phase_ = phase::idle;
    arm_client(linger_time);
    // Into the pooled buffer: a buffer in this frame would be held by every idle connection.
    ensure_client_buffer();
    for (std::size_t drained = 0; drained < 64 * 1024;) {
      from_client_.clear();
      auto [read_ec, n] = co_await client_.async_read_some(from_client_.prepare(), use_tuple);
      if (read_ec) break;
      drained += n;
    }
  }
  client_.close();
}

template <net::byte_stream Stream>
typename session<Stream>::head_read session<Stream>::next_request_head() {
  response_started_ = false;
  if (from_client_.empty()) {
    if (owner_.draining()) return head_read::closed;
    phase_ = phase::idle;
    arm_client(owner_.options().client.keepalive_timeout);
    const auto ec = read_ready_bytes();
    if (ec == asio::error::would_block) return head_read::pending;
    if (ec) return head_read::closed;
  }
  return begin_head();
}

template <net::byte_stream Stream>
typename session<Stream>::head_read session<Stream>::begin_head() {
  phase_ = phase::reading_head;
  arm_client(owner_.options().client.request_head_timeout);
  ensure_client_buffer();
  request_bytes_ = 0;
  return parse_head();
}

template <net::byte_stream Stream>
typename session<Stream>::head_read session<Stream>::parse_head() {
  auto step = request_parser_.parse(from_client_.readable());
  from_client_.consume(step.consumed);
  request_bytes_ += step.consumed;
  switch (step.event) {
    case http::parse_event::head:
      phase_ = phase::exchanging;
      client_deadline_ = clock::time_point::max();
      return head_read::ready;
    case http::parse_event::need_more:
      return head_read::pending;
    case http::parse_event::error:
      return head_read::refused;
    default:  // upgrade: the previous request asked to switch protocols; we do not.
      return head_read::closed;
  }
}

template <net::byte_stream Stream>
asio::awaitable<typename session<Stream>::head_read> session<Stream>::read_request_head() {
  for (;;) {
    if (phase_ == phase::idle) {
      // Waiting for a request that has not begun, without a buffer; the wait's end is no
      // answer (closed, or idle too long).
      auto [ec] = co_await client_.async_wait_readable(use_tuple);
      if (!ec) ec = read_ready_bytes();
      if (ec == asio::error::would_block) continue;
      if (ec) co_return head_read::closed;
      const head_read head = begin_head();
      if (head != head_read::pending) co_return head;
    } else {
      if (client_read(co_await read_client()))
        co_return client_timed_out_ ? head_read::timed_out : head_read::closed;
      const head_read head = parse_head();
      if (head != head_read::pending) co_return head;
    }
  }
}

template <net::byte_stream Stream>
typename session<Stream>::request_plan session<Stream>::plan_exchange() {
  http::request& req = request_parser_.request();
  const auto& client_options = owner_.options().client;
  client_version_ = req.version;
  head_request_ = req.method == http::method::head;

  request_plan plan;
  if (req.method == http::method::connect) {
    plan.refusal = http::status::method_not_allowed;
    return plan;
  }
  // One Host, always in HTTP/1.1 (RFC 9112 3.2): two would let routing and upstream disagree.
  if (auto hosts = req.fields.count("Host");
      hosts > 1 || (hosts == 0 && req.version == http::http_1_1)) {
    plan.refusal = http::status::bad_request;
    return plan;
  }
  // A Host that is no host and port, or a target neither origin- nor absolute-form, would let
  // routing and the upstream read the request differently. An absolute-form target goes on
  // in origin-form, its authority as Host (RFC 9112 3.2.2).
  const auto host = req.fields.get("Host");
  if ((host && !http::is_valid_host(*host)) || !http::to_origin_form(req) ||
      // Routes and their policies see one spelling of each path, and so does the upstream.
      http::normalize_path(req.target, client_options.paths) != http::path_error::none) {
    plan.refusal = http::status::bad_request;
    return plan;
  }
  plan.has_body = request_parser_.chunked() || request_parser_.content_length().value_or(0) > 0;
  plan.close_after = !request_parser_.keep_alive() || owner_.draining() ||
                     (client_options.max_requests_per_connection != 0 &&
                      requests_served_ >= client_options.max_requests_per_connection);
  // An upgrade is not forwarded (Upgrade is hop-by-hop); what follows its head is another
  // protocol, so the connection ends with this exchange.
  for (http::field f : req.fields)
    if (core::iequals(f.name, "Connection") && core::list_contains(f.value, "upgrade"))
      plan.close_after = true;
  if (auto expect = req.fields.get("Expect")) {
    if (!core::iequals(core::trim_ows(*expect), "100-continue")) {
      plan.refusal = http::status::expectation_failed;
      return plan;
    }
    plan.expect_continue = plan.has_body && req.version == http::http_1_1;
  }
  return plan;
}

template <net::byte_stream Stream>
void session<Stream>::begin_exchange() {
  if (view_ != owner_.view()) view_ = owner_.view();  // a reload: the newest from now on
  exchange_.reset();
  exchange_.worker = owner_.index();
  std::swap(exchange_.request, request_parser_.request());  // both keep their buffers
  in_exchange_ = true;

  // Routing reads a copy of the target, so captures stay valid whatever policies rewrite.
  matched_target_.assign(exchange_.request.target);
  route::request_view view = route::request_view::from(exchange_.request);
  auto rebase = [&](std::string_view& part) {
    const std::string& from = exchange_.request.target;
    if (part.data() >= from.data() && part.data() <= from.data() + from.size())
      part = std::string_view{matched_target_}.substr(
          static_cast<std::size_t>(part.data() - from.data()), part.size());
  };
  rebase(view.host);
  rebase(view.path);
  rebase(view.query);
  entry_ = &view_->config->select(view, captures_);
  exchange_.start(entry_->chain.empty() ? unobserved_clock::instance : policy::clock::real());

  std::size_t n = 0;
  for (const route::capture& c : captures_) params_[n++] = {c.name, c.value};
  exchange_.params = {params_.data(), n};
  const route::route* r = entry_->route;
  exchange_.route_name = r != nullptr ? std::string_view{r->name} : std::string_view{};
  exchange_deadline_ =
      r != nullptr && r->timeout ? clock::now() + *r->timeout : clock::time_point::max();
}

template <net::byte_stream Stream>
void session<Stream>::end_exchange() noexcept {
  // An upstream connection still lent to the exchange did not end cleanly: closed, whatever
  // path the exchange took out.
  if (upstream_) release_upstream(false);
  in_exchange_ = false;
  exchange_deadline_ = clock::time_point::max();
  exchange_.request_bytes = request_bytes_;
  try {
    entry_->chain.run_log(exchange_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gantry: a policy's log phase failed: %s\n", e.what());
  } catch (...) {
    std::fputs("gantry: a policy's log phase failed\n", stderr);
  }
}

template <net::byte_stream Stream>
asio::awaitable<typename session<Stream>::after> session<Stream>::run_exchange(
    const request_plan& plan) {
  const policy::chain& chain = entry_->chain;
  policy::outcome o = chain.run_request_head(exchange_);
  policy::verdict v = o.value();
  if (!o.ready()) v = co_await std::move(o).awaitable();
  if (v == policy::verdict::respond) co_return co_await send_local(plan.close_if_local());
  if (chain.has_phase(policy::phase::request_head) && !is_writable(exchange_.request)) {
    std::fputs("gantry: a policy left CR, LF or NUL, or a bad name, in a request head\n", stderr);
    exchange_.respond(http::status::internal_server_error, "500 Internal Server Error\n",
                      "text/plain; charset=utf-8");
    co_return co_await send_local(plan.close_if_local());
  }
  co_return co_await route_exchange(plan);
}

template <net::byte_stream Stream>
asio::awaitable<typename session<Stream>::after> session<Stream>::route_exchange(
    const request_plan& plan) {
  const route::route* r = entry_->route;
  if (r == nullptr) {
    if (!view_->config->fallback_proxies) {
      exchange_.respond(http::status::not_found, "404 Not Found\n", "text/plain; charset=utf-8");
      return send_local(plan.close_if_local());
    }
    return forward(0, plan.close_after, plan.expect_continue);
  }

  std::uint32_t cluster = entry_->cluster;
  if (const auto* split = std::get_if<route::weighted_split>(&r->action)) {
    const route::weighted_cluster& picked =
        route::pick_cluster(*split, exchange_.request.fields, owner_.random());
    cluster = entry_->split[static_cast<std::size_t>(&picked - split->clusters.data())];
  } else if (const auto* redirect = std::get_if<route::redirect>(&r->action)) {
    exchange_.respond(redirect->status);
    scratch_.clear();
    route::expand_captures(redirect->location, captures_, scratch_);
    exchange_.response.fields.add("Location", scratch_);
    return send_local(plan.close_if_local());
  } else if (const auto* direct = std::get_if<route::direct_response>(&r->action)) {
    exchange_.respond(direct->status, direct->body);
    for (http::field f : direct->headers) exchange_.response.fields.add(f.name, f.value);
    return send_local(plan.close_if_local());
  } else if (const auto* picker = std::get_if<route::pick_upstream>(&r->action)) {
    const route::upstream_choice choice = picker->pick(exchange_);
    const snapshot& config = *view_->config;
    const auto found = config.cluster_by_name.find(choice.cluster);
    if (found == config.cluster_by_name.end() ||
        (choice.endpoint && *choice.endpoint >= config.clusters[found->second].endpoints.size()))
      return refuse(proxy_errc::no_upstream);
    apply_rewrites();
    return forward(found->second, plan.close_after, plan.expect_continue, choice.endpoint);
  }
  apply_rewrites();
  return forward(cluster, plan.close_after, plan.expect_continue);
}

template <net::byte_stream Stream>
asio::awaitable<typename session<Stream>::after> session<Stream>::refuse(std::error_code ec) {
  co_await fail(ec);
  co_return after::close;
}

template <net::byte_stream Stream>
void session<Stream>::apply_rewrites() {
  const route::route& r = *entry_->route;
  http::request& req = exchange_.request;
  if (r.rewrite) {
    // The path part of the target, as policies left it; the query goes along unchanged.
    std::string_view target = req.target;
    const std::size_t query = target.find('?');
    scratch_.clear();
    route::rewrite_path(*r.rewrite, target.substr(0, query), captures_, scratch_);
    if (query != std::string_view::npos) scratch_.append(target.substr(query));
    req.target.assign(scratch_);
  }
}

template <net::byte_stream Stream>
asio::awaitable<typename session<Stream>::after> session<Stream>::send_local(bool close_after) {
  const policy::chain& chain = entry_->chain;
  if (chain.has_phase(policy::phase::response_head)) {
    policy::outcome o = chain.run_response_head(exchange_);
    if (!o.ready()) co_await std::move(o).awaitable();
  }
  policy::body_chunk piece{exchange_.local_body(), true};
  if (chain.has_phase(policy::phase::response_body)) {
    policy::outcome o = chain.run_response_body(exchange_, piece);
    policy::verdict v = o.value();
    if (!o.ready()) v = co_await std::move(o).awaitable();
    // A body phase that answered replaced the response; its body is final.
    if (v == policy::verdict::respond) piece.data = exchange_.local_body();
  }
  drop_unwritable(exchange_.response);
  if (response_started_) co_return after::close;  // too late to answer: just close
  if (!close_after) {
    // The request was answered before its end was parsed; without a body the end is
    // already here, and the connection can carry the next request.
    auto step = request_parser_.parse(from_client_.readable());
    from_client_.consume(step.consumed);
    request_bytes_ += step.consumed;
    if (step.event != http::parse_event::message_end) close_after = true;
  }
  http::response& res = exchange_.response;
  res.version = http::http_1_1;
  res.fields.erase("Transfer-Encoding");
  res.fields.erase("Content-Length");
  if (!http::is_bodyless(res.status)) {
    scratch_.clear();
    scratch_.append(std::to_string(piece.data.size()));
    res.fields.add("Content-Length", scratch_);
  }
  if (close_after) {
    res.fields.add("Connection", "close");
  } else if (client_version_ == http::http_1_0) {
    res.fields.add("Connection", "keep-alive");
  }
  out_.clear();
  http::serialize_head(res, out_);
  if (!head_request_ && !http::is_bodyless(res.status)) out_.append(piece.data);
  response_started_ = true;
  auto ec = client_written(co_await write_client(out_));
  out_.clear();
  co_return (ec || close_after) ? after::close : after::keep_alive;
}

template <net::byte_stream Stream>
asio::awaitable<void> session<Stream>::fail(std::error_code ec) {
  if (const auto status = status_for(ec)) co_await fail(*status);
}

template <net::byte_stream Stream>
asio::awaitable<void> session<Stream>::fail(http::status status) {
  if (!in_exchange_) {
    co_await respond_plain(status);
    co_return;
  }
  if (response_started_) co_return;
  scratch_.clear();
  scratch_.append(std::to_string(static_cast<unsigned>(status)));
  scratch_.push_back(' ');
  scratch_.append(http::reason_phrase(status));
  scratch_.push_back('\n');
  exchange_.respond(status, scratch_, "text/plain; charset=utf-8");
  co_await send_local(true);
}

template <net::byte_stream Stream>
asio::awaitable<typename session<Stream>::after> session<Stream>::forward(
    std::uint32_t cluster_index, bool close_after, bool expect_continue,
    std::optional<std::size_t> endpoint) {
  const snapshot& config = *view_->config;
  const upstream::cluster& cluster = config.clusters[cluster_index];
  const std::size_t pick =
      endpoint ? *endpoint : view_->balancers[cluster_index].pick(cluster.endpoints.size());
  const upstream::endpoint& target = cluster.endpoints[pick];
  endpoint_ = view_->pool_slot[config.first_endpoint[cluster_index] + pick];
  exchange_.cluster = cluster.name;
  exchange_.endpoint = target.name;
  if (!prepare_upstream_head(target.name)) {
    co_await fail(http::errc::bad_message);
    co_return after::close;
  }

  // Answering "100 Continue" ourselves (as Envoy does by default) keeps the client from
  // waiting on an upstream that may never send one; Expect is not forwarded.
  bool continue_due = expect_continue;
  bool body_started = false;
  bool request_complete = false;
  for (int attempt = 0;; ++attempt) {
    const bool first_attempt = attempt == 0;
    if (!first_attempt) serialize_upstream_head();
    ensure_buffers();
    const auto now = clock::now();
    if (first_attempt)
      upstream_ = upstream::lease{owner_.pool(), owner_.pool().take_idle(endpoint_, now)};
    const bool reused = static_cast<bool>(upstream_);
    if (reused && now - upstream_->idle_since >= peek_after && !upstream_->stream.reusable()) {
      release_upstream(false);
      continue;
    }
    if (!reused) {
      upstream_ = upstream::lease{owner_.pool(), owner_.pool().make_connection(endpoint_)};
      if (auto ec = co_await connect(*upstream_, target.address)) {
        co_await fail(ec);
        co_return after::close;
      }
    }

    const std::error_code sent =
        co_await send_request(continue_due, body_started, request_complete);
    if (sent == proxy_errc::upstream_failed && reused && first_attempt && !body_started) {
      release_upstream(false);
      continue;  // the pooled connection was dead before it got the request: a fresh one
    }
    if (sent) {
      co_await fail(sent);
      co_return after::close;
    }
    // A request body phase answered: the upstream has part of the request, and is dropped.
    if (exchange_.has_local_response()) co_return co_await send_local(true);

    // Sent again only if the upstream may not have acted on it: nothing came back on a
    // reused connection, and repeating the request is harmless (RFC 9110 9.2.2).
    const bool may_retry =
        reused && first_attempt && !body_started && http::is_idempotent(exchange_.request.method);
    auto outcome = co_await relay_response(close_after, may_retry);
    if (outcome) co_return *outcome;
    release_upstream(false);
  }
}

template <net::byte_stream Stream>
asio::awaitable<std::error_code> session<Stream>::connect(upstream::connection& conn,
                                                          const asio::ip::tcp::endpoint& address) {
  arm_upstream(owner_.options().upstream.connect_timeout);
  auto [ec] = co_await conn.stream.async_connect(address, use_tuple);
  upstream_deadline_ = clock::time_point::max();
  if (upstream_timed_out_) co_return proxy_errc::upstream_timed_out;
  if (!ec) conn.stream.connected(ec);
  if (ec) co_return proxy_errc::upstream_unreachable;
  co_return std::error_code{};
}

template <net::byte_stream Stream>
asio::awaitable<std::error_code> session<Stream>::send_request(bool& continue_due,
                                                               bool& body_started,
                                                               bool& request_complete) {
  const bool chunked = request_parser_.chunked() || rechunk_request_;
  const policy::chain& chain = entry_->chain;
  const bool body_phase = chain.has_phase(policy::phase::request_body);
  if (request_complete) {  // a retry of a request without body: head (and last chunk) only
    if (chunked) http::serialize_last_chunk(request_parser_.trailers(), out_);
    auto ec = upstream_written(co_await write_upstream(out_));
    out_.clear();
    co_return ec ? upstream_error(ec) : std::error_code{};
  }
  const auto body_timeout = owner_.options().client.body_timeout;
  for (;;) {
    auto step = request_parser_.parse(from_client_.readable());
    from_client_.consume(step.consumed);
    request_bytes_ += step.consumed;
    switch (step.event) {
      case http::parse_event::body: {
        body_started = true;
        std::string_view piece = request_parser_.body();
        if (body_phase) {
          policy::body_chunk c{piece, false};
          policy::outcome o = chain.run_request_body(exchange_, c);
          policy::verdict v = o.value();
          if (!o.ready()) v = co_await std::move(o).awaitable();
          if (v == policy::verdict::respond) co_return std::error_code{};
          piece = c.data;
          if (piece.empty()) break;  // dropped; an empty chunk would end the body
        }
        if (chunked) http::serialize_chunk_size(piece.size(), out_);
        if (piece.size() <= coalesce_limit) {
          out_.append(piece);
        } else {
          auto ec = upstream_written(co_await write_upstream(out_, piece));
          out_.clear();
          if (ec) co_return upstream_error(ec);
        }
        if (chunked) out_.append(http::chunk_terminator);
        break;
      }
      case http::parse_event::message_end: {
        if (body_phase && body_started) {
          policy::body_chunk c{{}, true};
          policy::outcome o = chain.run_request_body(exchange_, c);
          policy::verdict v = o.value();
          if (!o.ready()) v = co_await std::move(o).awaitable();
          if (v == policy::verdict::respond) co_return std::error_code{};
          if (!c.data.empty()) {
            http::serialize_chunk_size(c.data.size(), out_);
            out_.append(c.data);
            out_.append(http::chunk_terminator);
          }
        }
        request_complete = true;
        if (chunked) http::serialize_last_chunk(request_parser_.trailers(), out_);
        auto ec = upstream_written(co_await write_upstream(out_));
        out_.clear();
        co_return ec ? upstream_error(ec) : std::error_code{};
      }
      case http::parse_event::need_more: {
        if (!out_.empty()) {
          auto ec = upstream_written(co_await write_upstream(out_));
          out_.clear();
          if (ec) co_return upstream_error(ec);
        }
        if (continue_due) {
          continue_due = false;
          if (client_written(co_await write_client(continue_response)))
            co_return proxy_errc::client_gone;
        }
        arm_client(body_timeout);
        auto ec = client_read(co_await read_client());
        client_deadline_ = clock::time_point::max();
        if (ec) co_return client_error(ec);
        break;
      }
      default:
        co_return request_parser_.error();
    }
  }
}

template <net::byte_stream Stream>
asio::awaitable<std::optional<typename session<Stream>::after>> session<Stream>::relay_response(
    bool close_after, bool may_retry) {
  bool received_any = false;
  bool interim = false;

  // The head, after any interim (1xx) responses.
  response_parser_.expect_head_response(head_request_);
  for (;;) {
    auto step = response_parser_.parse(from_upstream_.readable());
    from_upstream_.consume(step.consumed);
    if (step.event == http::parse_event::need_more) {
      auto ec = upstream_read(co_await read_upstream());
      if (!ec) {
        received_any = true;
        continue;
      }
      if (may_retry && !received_any && is_close(ec)) co_return std::nullopt;
      co_await fail(upstream_error(ec));
      co_return after::close;
    }
    if (step.event == http::parse_event::message_end && interim) {
      interim = false;
      continue;
    }
    const auto status = static_cast<unsigned>(response_parser_.response().status);
    // A malformed or oversized head, or a switch of protocols we never asked for (Upgrade
    // is not forwarded), is the upstream's fault.
    if (step.event != http::parse_event::head || status == 101) {
      co_await fail(proxy_errc::bad_upstream_response);
      co_return after::close;
    }
    if (status >= 200) break;
    interim = true;
    // 100 answers Expect, which the gateway answered itself; and HTTP/1.0 clients must not
    // see interim responses at all (RFC 9110 15.2).
    if (status == 100 || client_version_ == http::http_1_0) continue;
    http::response& res = response_parser_.response();
    if (!http::remove_hop_by_hop(res.fields, entry_->proxy_credentials()))
      continue;  // an interim response may be dropped
    res.fields.erase("Content-Length");
    res.version = http::http_1_1;
    out_.clear();
    http::serialize_head(res, out_);
    auto ec = client_written(co_await write_client(out_));
    out_.clear();
    if (ec) co_return after::close;
  }

  // The head goes through the response phases with its framing settled and hop-by-hop
  // fields gone, so what policies add is what the client gets.
  std::swap(exchange_.response, response_parser_.response());  // both keep their buffers
  exchange_.accept_upstream_response();
  if (!http::prepare_for_forwarding(exchange_.response.fields, response_parser_, scratch_,
                                    entry_->proxy_credentials())) {
    co_await fail(proxy_errc::bad_upstream_response);
    co_return after::close;
  }
  const policy::chain& chain = entry_->chain;
  if (chain.has_phase(policy::phase::response_head)) {
    policy::outcome o = chain.run_response_head(exchange_);
    policy::verdict v = o.value();
    if (!o.ready()) v = co_await std::move(o).awaitable();
    if (v == policy::verdict::respond) co_return co_await send_local(true);
    drop_unwritable(exchange_.response);
  }

  // The body, streamed as it arrives.
  const bool body_phase = chain.has_phase(policy::phase::response_body);
  bool chunked_out = false;
  prepare_client_head(chunked_out, close_after);
  response_started_ = true;
  const std::uint64_t sent_before_body = exchange_.response_bytes;  // interim responses
  bool upstream_closed = false;
  bool body_seen = false;
  // Runs the response body phase on `c`; false when a policy answered.
  auto run_body_phase = [&](policy::body_chunk& c) -> asio::awaitable<bool> {
    policy::outcome o = chain.run_response_body(exchange_, c);
    policy::verdict v = o.value();
    if (!o.ready()) v = co_await std::move(o).awaitable();
    co_return v == policy::verdict::continue_;
  };
  // A body phase answered: its local response replaces the upstream's if nothing of that
  // reached the client yet (the head may still wait in out_); a response under way is
  // broken, and the connection just closes.
  auto body_phase_answered = [&]() -> asio::awaitable<after> {
    if (exchange_.response_bytes != sent_before_body) co_return after::close;
    out_.clear();
    response_started_ = false;
    co_return co_await send_local(true);
  };
  for (;;) {
    auto step = upstream_closed ? response_parser_.finish()
                                : response_parser_.parse(from_upstream_.readable());
    from_upstream_.consume(step.consumed);
    switch (step.event) {
      case http::parse_event::body: {
        body_seen = true;
        std::string_view piece = response_parser_.body();
        if (body_phase) {
          policy::body_chunk c{piece, false};
          if (!co_await run_body_phase(c)) co_return co_await body_phase_answered();
          piece = c.data;
          if (piece.empty()) break;  // dropped; an empty chunk would end the body
        }
        if (chunked_out) http::serialize_chunk_size(piece.size(), out_);
        if (piece.size() <= coalesce_limit) {
          out_.append(piece);
        } else {
          auto ec = client_written(co_await write_client(out_, piece));
          out_.clear();
          if (ec) co_return after::close;
        }
        if (chunked_out) out_.append(http::chunk_terminator);
        break;
      }
      case http::parse_event::message_end: {
        if (body_phase && body_seen) {
          policy::body_chunk c{{}, true};
          if (!co_await run_body_phase(c)) co_return co_await body_phase_answered();
          if (!c.data.empty()) {
            if (chunked_out) http::serialize_chunk_size(c.data.size(), out_);
            out_.append(c.data);
            if (chunked_out) out_.append(http::chunk_terminator);
          }
        }
        if (chunked_out) http::serialize_last_chunk(response_parser_.trailers(), out_);
        const bool reusable = !upstream_closed && response_parser_.keep_alive() &&
                              !response_parser_.body_until_close() && from_upstream_.empty();
        release_upstream(reusable);
        auto ec = client_written(co_await write_client(out_));
        out_.clear();
        co_return (ec || close_after) ? after::close : after::keep_alive;
      }
      case http::parse_event::need_more: {
        // finish() found nothing in progress: cannot happen mid-body.
        if (upstream_closed) co_return after::close;
        if (!out_.empty()) {
          auto ec = client_written(co_await write_client(out_));
          out_.clear();
          if (ec) co_return after::close;
        }
        auto ec = upstream_read(co_await read_upstream());
        if (ec == asio::error::eof) {
          upstream_closed = true;
        } else if (ec) {
          co_return after::close;  // cut mid-body: the client must not see a whole response
        }
        break;
      }
      default:
        co_return after::close;
    }
  }
}

template <net::byte_stream Stream>
asio::awaitable<void> session<Stream>::respond_plain(http::status status) {
  // Only when nothing of a response has gone out: otherwise the connection is just closed.
  if (response_started_) co_return;
  http::response res{status};
  res.fields.add("Content-Type", "text/plain; charset=utf-8");
  res.fields.add("Connection", "close");
  std::string body;
  body.append(std::to_string(static_cast<unsigned>(status)));
  body.push_back(' ');
  body.append(http::reason_phrase(status));
  body.push_back('\n');
  out_.clear();
  http::serialize_response(std::move(res), body, out_);
  if (phase_ == phase::exchanging && head_request_) out_.resize(out_.size() - body.size());
  response_started_ = true;
  client_written(co_await write_client(out_));
  out_.clear();
}

template <net::byte_stream Stream>
bool session<Stream>::prepare_upstream_head(std::string_view endpoint_name) {
  http::request& req = exchange_.request;
  http::headers& fields = req.fields;
  // A coding list such as "gzip, chunked" is forwarded whole: the body is re-chunked, the
  // codings under the chunking pass through untouched.
  if (!http::prepare_for_forwarding(fields, request_parser_, scratch_, entry_->proxy_credentials()))
    return false;
  // Body phases may change a body's length: it then goes chunked, whatever its framing was.
  rechunk_request_ = entry_->chain.has_phase(policy::phase::request_body) &&
                     !request_parser_.chunked() && request_parser_.content_length().value_or(0) > 0;
  if (rechunk_request_) {
    fields.erase("Content-Length");
    fields.add("Transfer-Encoding", "chunked");
  }

  // One pass: the client's Host, and every X-Forwarded-For line joined; the fields this hop
  // writes anew go, and so does Expect (the gateway answers it itself).
  scratch_.clear();
  std::optional<std::string_view> host;
  fields.erase_if([&](http::field f) {
    switch (f.name.size()) {
      case 4:
        if (!host && core::iequals(f.name, "Host")) host = f.value;
        return false;
      case 6:
        return core::iequals(f.name, "Expect");
      case 15:
        if (!core::iequals(f.name, "X-Forwarded-For")) return false;
        scratch_.append(f.value);
        scratch_.append(", ");
        return true;
      case 16:
        return core::iequals(f.name, "X-Forwarded-Host");
      case 17:
        return core::iequals(f.name, "X-Forwarded-Proto");
      default:
        return false;
    }
  });
  if (!host) {
    fields.add("Host", endpoint_name);
    host = endpoint_name;
  }
  // The values are put together in scratch_ first: `host` views the fields' buffer, which
  // adding to the fields may move.
  scratch_.append(exchange_.downstream.peer_address);
  const std::size_t forwarded_for = scratch_.size();
  scratch_.append(*host);
  const std::string_view values{scratch_};
  fields.add("X-Forwarded-For", values.substr(0, forwarded_for));
  fields.add("X-Forwarded-Proto", exchange_.downstream.scheme);
  fields.add("X-Forwarded-Host", values.substr(forwarded_for));
  // The client's Host is in X-Forwarded-Host; the upstream gets the route's.
  if (entry_->route != nullptr && !entry_->route->host_rewrite.empty())
    fields.set("Host", entry_->route->host_rewrite);
  fields.add("Via", via_value);
  req.version = http::http_1_1;
  serialize_upstream_head();
  return true;
}

template <net::byte_stream Stream>
void session<Stream>::serialize_upstream_head() {
  out_.clear();
  http::serialize_head(exchange_.request, out_);
}

template <net::byte_stream Stream>
void session<Stream>::prepare_client_head(bool& chunked_out, bool& close_after) {
  http::response& res = exchange_.response;
  const bool client_1_0 = client_version_ == http::http_1_0;
  const bool bodyless = head_request_ || http::is_bodyless(res.status);
  // Body phases may change a body's length: it then goes chunked (or close-delimited).
  const bool length_known = response_parser_.content_length().has_value() &&
                            !entry_->chain.has_phase(policy::phase::response_body);
  if (bodyless) {
    // Content-Length of a HEAD or 304 response describes the resource: it goes as it came.
    res.fields.erase("Transfer-Encoding");
  } else if (!length_known) {
    res.fields.erase("Content-Length");
    // Chunked or close-delimited upstream body: an HTTP/1.0 client learns where it ends
    // from the close; an HTTP/1.1 client gets it chunked.
    if (client_1_0) {
      res.fields.erase("Transfer-Encoding");
      close_after = true;
    } else {
      if (!response_parser_.chunked()) res.fields.add("Transfer-Encoding", "chunked");
      chunked_out = true;
    }
  }
  res.fields.add("Via", via_value);
  if (close_after) {
    res.fields.add("Connection", "close");
  } else if (client_1_0) {
    res.fields.add("Connection", "keep-alive");
  }
  res.version = http::http_1_1;
  out_.clear();
  http::serialize_head(res, out_);
}

template <net::byte_stream Stream>
typename session<Stream>::transfer session<Stream>::read_client() {
  return client_.async_read_some(from_client_.prepare(), use_tuple);
}

template <net::byte_stream Stream>
std::error_code session<Stream>::client_read(const transfer_result& r) {
  auto [ec, n] = r;
  if (!ec) {
    from_client_.commit(n);
    return {};
  }
  return client_timed_out_ ? timed_out() : ec;
}

template <net::byte_stream Stream>
std::error_code session<Stream>::read_ready_bytes() {
  // Between requests a connection holds no buffer, only its session and socket (NGINX frees
  // its buffers between requests too): 10 000 idle clients cost megabytes, not 16 KiB each.
  // A read is tried at once, as asio would; only when nothing is there does the buffer go
  // back to the worker while the socket is watched.
  ensure_client_buffer();
  std::error_code ec;
  const std::size_t n = client_.read_some_now(from_client_.prepare(), ec);
  if (!ec) {
    from_client_.commit(n);
  } else if (nothing_ready(ec)) {
    owner_.give_buffer(from_client_.release_storage());
    return asio::error::would_block;
  }
  return ec;
}

template <net::byte_stream Stream>
typename session<Stream>::transfer session<Stream>::read_upstream() {
  arm_upstream(owner_.options().upstream.response_timeout);
  return upstream_->stream.async_read_some(from_upstream_.prepare(), use_tuple);
}

template <net::byte_stream Stream>
std::error_code session<Stream>::upstream_read(const transfer_result& r) {
  // Time spent writing to a slow client is not the upstream's silence.
  upstream_deadline_ = clock::time_point::max();
  auto [ec, n] = r;
  if (!ec) {
    from_upstream_.commit(n);
    return {};
  }
  return upstream_timed_out_ ? timed_out() : ec;
}

template <net::byte_stream Stream>
typename session<Stream>::transfer session<Stream>::write_client(std::string_view bytes,
                                                                 std::string_view more) {
  arm_client(owner_.options().client.body_timeout);
  return client_.async_write({asio::buffer(bytes), asio::buffer(more)}, use_tuple);
}

template <net::byte_stream Stream>
std::error_code session<Stream>::client_written(const transfer_result& r) noexcept {
  client_deadline_ = clock::time_point::max();
  auto [ec, n] = r;
  exchange_.response_bytes += n;
  return ec && client_timed_out_ ? timed_out() : ec;
}

template <net::byte_stream Stream>
typename session<Stream>::transfer session<Stream>::write_upstream(std::string_view bytes,
                                                                   std::string_view more) {
  arm_upstream(owner_.options().upstream.response_timeout);
  return upstream_->stream.async_write({asio::buffer(bytes), asio::buffer(more)}, use_tuple);
}

template <net::byte_stream Stream>
std::error_code session<Stream>::upstream_written(const transfer_result& r) noexcept {
  // The upstream is not on the clock while the gateway waits for the client's next piece.
  upstream_deadline_ = clock::time_point::max();
  auto [ec, n] = r;
  return ec && upstream_timed_out_ ? timed_out() : ec;
}

template <net::byte_stream Stream>
void session<Stream>::release_upstream(bool reusable) noexcept {
  upstream_deadline_ = clock::time_point::max();
  upstream_timed_out_ = false;
  if (!reusable) {
    // Whatever the old connection left, in the buffer or in the parser, is not the next
    // connection's.
    from_upstream_.clear();
    response_parser_.reset();
  }
  if (reusable)
    upstream_.release_clean(clock::now());
  else
    upstream_.reset();
  // The upstream buffer is only needed during an exchange: idle connections do not hold it.
  if (from_upstream_.has_storage() && from_upstream_.empty())
    owner_.give_buffer(from_upstream_.release_storage());
}

template <net::byte_stream Stream>
void session<Stream>::ensure_client_buffer() {
  if (!from_client_.has_storage())
    from_client_ = io_buffer{owner_.take_buffer(), owner_.options().buffer_size};
}

template <net::byte_stream Stream>
void session<Stream>::ensure_buffers() {
  ensure_client_buffer();
  if (!from_upstream_.has_storage())
    from_upstream_ = io_buffer{owner_.take_buffer(), owner_.options().buffer_size};
}

template <net::byte_stream Stream>
void session<Stream>::return_buffers() noexcept {
  if (from_upstream_.has_storage()) owner_.give_buffer(from_upstream_.release_storage());
  if (from_client_.has_storage()) owner_.give_buffer(from_client_.release_storage());
}

template <net::byte_stream Stream>
void session<Stream>::arm_client(clock::duration timeout) noexcept {
  client_deadline_ = clock::now() + timeout;
  client_timed_out_ = false;
}

template <net::byte_stream Stream>
void session<Stream>::arm_upstream(clock::duration timeout) noexcept {
  // A route's timeout bounds the whole exchange: no wait on the upstream goes past it.
  upstream_deadline_ = std::min(clock::now() + timeout, exchange_deadline_);
  upstream_timed_out_ = false;
}

template <net::byte_stream Stream>
void session<Stream>::enforce_deadlines(clock::time_point now) noexcept {
  if (now >= client_deadline_) {
    client_deadline_ = clock::time_point::max();
    client_timed_out_ = true;
    // An idle connection just ends; otherwise the waiting coroutine wakes to answer 408 or
    // to give up on a client that stopped reading.
    if (phase_ == phase::idle)
      client_.close();
    else
      client_.cancel();
  }
  if (now >= upstream_deadline_) {
    upstream_deadline_ = clock::time_point::max();
    upstream_timed_out_ = true;
    if (upstream_) upstream_->stream.close();
  }
}

template <net::byte_stream Stream>
void session<Stream>::close_if_idle() noexcept {
  if (phase_ == phase::idle) close();
}

template <net::byte_stream Stream>
void session<Stream>::close() noexcept {
  client_.close();
  if (upstream_) upstream_->stream.close();
}

}  // namespace gantry::detail
