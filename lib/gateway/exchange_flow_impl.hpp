#pragma once
// The definitions of `exchange_flow`, for the translation units that instantiate it: the
// gateway's exchange driver, and the test kit's runner.

#include <cstdio>
#include <exception>

#include "body_pump.hpp"
#include "exchange_flow.hpp"
#include "gantry/gateway/proxy_error.hpp"
#include "gantry/http/error.hpp"
#include "gantry/http/field_syntax.hpp"
#include "gantry/http/method.hpp"
#include "gantry/policy/body_chunk.hpp"

namespace gantry::detail {
namespace flow_detail {

// Policies edit heads freely; what reaches the wire must still be a head. A name that is no
// token, or a CR, LF or NUL in a value, the target or a reason phrase, would end a field or
// the head early (header injection, response splitting). `headers::writable` looks only at
// the fields added or changed since the parser filled them.
inline bool is_writable(http::request& req) noexcept {
  if (req.target.empty()) return false;
  for (char c : req.target)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return req.fields.writable();
}

// A response goes out whatever a policy did to it: without the fields that cannot be
// written, and with the standard reason phrase if its own cannot be.
inline void drop_unwritable(http::response& res) noexcept {
  drop_unwritable_fields(res.fields);
  if (!http::is_safe_field_value(res.reason)) res.reason.clear();
}

}  // namespace flow_detail

template <class Downstream, class Upstream, class Chain>
void exchange_flow<Downstream, Upstream, Chain>::end() noexcept {
  // An upstream connection still lent to the exchange did not end cleanly: closed, whatever
  // path the exchange took out.
  if (upstream_.lent()) upstream_.release(false);
  exchange_.request_bytes = down_->request_bytes();
  try {
    chain_->run_log(exchange_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gantry: a policy's log phase failed: %s\n", e.what());
  } catch (...) {
    std::fputs("gantry: a policy's log phase failed\n", stderr);
  }
}

template <class Downstream, class Upstream, class Chain>
template <class Action>
asio::awaitable<after> exchange_flow<Downstream, Upstream, Chain>::run_policies(Action action) {
  const Chain& chain = *chain_;
  policy::outcome o = chain.run_request_head(exchange_);
  policy::verdict v = o.value();
  if (!o.ready()) v = co_await std::move(o).awaitable();
  if (v == policy::verdict::respond) co_return co_await send_local(false);
  if (chain.has_phase(policy::phase::request_head) &&
      !flow_detail::is_writable(exchange_.request)) {
    std::fputs("gantry: a policy left CR, LF or NUL, or a bad name, in a request head\n", stderr);
    exchange_.respond(http::status::internal_server_error, "500 Internal Server Error\n",
                      "text/plain; charset=utf-8");
    co_return co_await send_local(false);
  }
  co_return co_await action();
}

template <class Downstream, class Upstream, class Chain>
asio::awaitable<after> exchange_flow<Downstream, Upstream, Chain>::refuse(std::error_code ec) {
  co_await fail(ec);
  co_return after::close;
}

template <class Downstream, class Upstream, class Chain>
asio::awaitable<after> exchange_flow<Downstream, Upstream, Chain>::send_local(bool close) {
  const Chain& chain = *chain_;
  if (chain.has_phase(policy::phase::response_head)) {
    policy::outcome o = chain.run_response_head(exchange_);
    if (!o.ready()) co_await std::move(o).awaitable();
  }
  policy::body_chunk piece{exchange_.local_body(), true};
  // Body phases see bodies only: an empty local body is no piece (policy.hpp).
  if (chain.has_phase(policy::phase::response_body) && !piece.data.empty()) {
    policy::outcome o = chain.run_response_body(exchange_, piece);
    policy::verdict v = o.value();
    if (!o.ready()) v = co_await std::move(o).awaitable();
    // A body phase that answered replaced the response; its body is final.
    if (v == policy::verdict::respond) piece.data = exchange_.local_body();
  }
  // The trailers phase, when the answer has a body or trailers, as for an upstream's.
  if (chain.has_phase(policy::phase::response_trailers) &&
      (!piece.data.empty() || !exchange_.response_trailers.empty())) {
    policy::outcome o = chain.run_response_trailers(exchange_);
    policy::verdict v = o.value();
    if (!o.ready()) v = co_await std::move(o).awaitable();
    if (v == policy::verdict::respond) piece.data = exchange_.local_body();
  }
  flow_detail::drop_unwritable(exchange_.response);
  drop_unwritable_fields(exchange_.response_trailers);
  if (down_->response_started()) co_return after::close;  // too late to answer: just close
  down_->queue_local_head(exchange_.response, piece.data.size(), close,
                          !exchange_.response_trailers.empty());
  std::error_code ec;
  if (!down_->queue(piece.data)) ec = down_->written(co_await down_->send(piece.data));
  if (!ec) {
    down_->queue_end(exchange_.response_trailers);
    if (down_->has_queued()) ec = down_->written(co_await down_->send());
  }
  co_return (ec || down_->closes_after()) ? after::close : after::keep_alive;
}

template <class Downstream, class Upstream, class Chain>
asio::awaitable<void> exchange_flow<Downstream, Upstream, Chain>::fail(std::error_code ec) {
  exchange_.error = ec;
  if (const auto status = status_for(ec)) co_await fail(*status);
}

template <class Downstream, class Upstream, class Chain>
asio::awaitable<void> exchange_flow<Downstream, Upstream, Chain>::fail(http::status status) {
  if (down_->response_started()) co_return;
  scratch_.clear();
  scratch_.append(std::to_string(static_cast<unsigned>(status)));
  scratch_.push_back(' ');
  scratch_.append(http::reason_phrase(status));
  scratch_.push_back('\n');
  exchange_.respond(status, scratch_, "text/plain; charset=utf-8");
  co_await send_local(true);
}

template <class Downstream, class Upstream, class Chain>
asio::awaitable<after> exchange_flow<Downstream, Upstream, Chain>::forward(
    typename Upstream::target to) {
  const Chain& chain = *chain_;
  const bool body_phase = chain.has_phase(policy::phase::request_body);
  const bool trailers_phase = chain.has_phase(policy::phase::request_trailers);
  // Body phases may change a body's length, and trailers phases add trailers: the body then
  // goes chunked, whatever its framing was.
  http::body_framing framing = down_->request_framing();
  if ((body_phase || trailers_phase) && framing.content_length.value_or(0) > 0)
    framing = {true, std::nullopt};
  if (!upstream_.prepare_head(exchange_.request, framing, credentials_, exchange_.downstream, to)) {
    co_await fail(http::errc::bad_message);
    co_return after::close;
  }

  bool body_started = false;
  for (int attempt = 0;; ++attempt) {
    const bool first_attempt = attempt == 0;
    const bool reused = first_attempt && upstream_.use_idle(to);
    if (!reused) {
      upstream_.open(to);
      if (auto ec = co_await upstream_.connect(to)) {
        co_await fail(ec);
        co_return after::close;
      }
    }
    upstream_.queue_head(exchange_.request);

    std::error_code sent;
    if (down_->request_complete()) {
      // A second try of a request read whole without a body piece: its head, and the end.
      upstream_.queue_end(down_->trailers());
      sent = upstream_.written(co_await upstream_.send());
    } else {
      pump_start pump = start_pump(
          *down_, upstream_, body_phase,
          [&](policy::body_chunk& c) { return chain.run_request_body(exchange_, c); }, body_started,
          trailers_phase ? &exchange_.request_trailers : nullptr,
          [&] { return chain.run_request_trailers(exchange_); });
      pump_result pumped;
      if (pump.ended)
        pumped.error = upstream_.written(co_await upstream_.send());
      else
        pumped = co_await std::move(pump.rest);
      // A request body or trailers phase answered: the upstream has part of the request, and
      // is dropped.
      if (pumped.answered) co_return co_await send_local(true);
      sent = pumped.error;
    }
    if (sent == proxy_errc::upstream_failed && reused && first_attempt && !body_started) {
      upstream_.release(false);
      continue;  // the pooled connection was dead before it got the request: a fresh one
    }
    if (sent) {
      co_await fail(sent);
      co_return after::close;
    }

    // The head, after any interim (1xx) responses. Sent again only if the upstream may not
    // have acted on it: nothing came back on a reused connection, and repeating the request
    // is harmless (RFC 9110 9.2.2).
    const bool may_retry =
        reused && first_attempt && !body_started && http::is_idempotent(exchange_.request.method);
    bool retry = false;
    for (bool head_read = false; !head_read && !retry;) {
      switch (upstream_.next_head(credentials_)) {
        case head_step::final:
          head_read = true;
          break;
        case head_step::need_more: {
          const auto ec = upstream_.read_done(co_await upstream_.read_more());
          if (!ec) break;
          if (may_retry && upstream_.closed_before_response()) {
            retry = true;
            break;
          }
          co_await fail(ec);
          co_return after::close;
        }
        case head_step::interim:
          if (co_await down_->send_interim(upstream_.response())) co_return after::close;
          break;
        case head_step::skipped:
          break;
        case head_step::failed:
          co_await fail(proxy_errc::bad_upstream_response);
          co_return after::close;
      }
    }
    if (!retry) co_return co_await relay_response();
    upstream_.release(false);
  }
}

template <class Downstream, class Upstream, class Chain>
asio::awaitable<after> exchange_flow<Downstream, Upstream, Chain>::relay_response() {
  // The head goes through the response phases with its framing settled and hop-by-hop
  // fields gone, so what policies add is what the client gets.
  if (!upstream_.take_response(exchange_.response, credentials_)) {
    co_await fail(proxy_errc::bad_upstream_response);
    co_return after::close;
  }
  exchange_.accept_upstream_response();
  const Chain& chain = *chain_;
  if (chain.has_phase(policy::phase::response_head)) {
    policy::outcome o = chain.run_response_head(exchange_);
    policy::verdict v = o.value();
    if (!o.ready()) v = co_await std::move(o).awaitable();
    if (v == policy::verdict::respond) co_return co_await send_local(true);
    flow_detail::drop_unwritable(exchange_.response);
  }

  // The body, streamed as it arrives. Body phases may change its length, and trailers phases
  // add trailers: the downstream codec then frames it without one.
  const bool body_phase = chain.has_phase(policy::phase::response_body);
  const bool trailers_phase = chain.has_phase(policy::phase::response_trailers);
  http::body_framing framing = upstream_.response_framing();
  if (body_phase || trailers_phase) framing.content_length.reset();
  down_->queue_response_head(exchange_.response, framing, false);
  bool body_seen = false;
  pump_start pump = start_pump(
      upstream_, *down_, body_phase,
      [&](policy::body_chunk& c) { return chain.run_response_body(exchange_, c); }, body_seen,
      trailers_phase ? &exchange_.response_trailers : nullptr,
      [&] { return chain.run_response_trailers(exchange_); });
  pump_result pumped;
  if (pump.ended)
    pumped.error = down_->written(co_await down_->send());
  else
    pumped = co_await std::move(pump.rest);
  if (pumped.answered) {
    // A body or trailers phase answered: its local response replaces the upstream's if nothing of
    // that reached the client yet; a response under way is broken, and the connection just closes.
    if (!down_->retract_response_head()) co_return after::close;
    co_return co_await send_local(true);
  }
  // Cut mid-body, on either side: the client must not see a whole response.
  if (pumped.error) {
    exchange_.error = pumped.error;
    co_return after::close;
  }
  co_return down_->closes_after() ? after::close : after::keep_alive;
}

}  // namespace gantry::detail
