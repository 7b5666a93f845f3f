#pragma once
// The one body pump of the exchange driver: a request body from the client to the upstream,
// and a response body from the upstream to the client, piece by piece through the body
// phase, with backpressure (nothing more is read until what was queued is written).

#include <asio/awaitable.hpp>
#include <string_view>
#include <system_error>
#include <utility>

#include "gantry/http/field_syntax.hpp"
#include "gantry/http/headers.hpp"
#include "gantry/policy/body_chunk.hpp"
#include "gantry/policy/outcome.hpp"
#include "transfer.hpp"

namespace gantry::detail {

// Where a body comes from: a codec's receiving side.
//   body_step next_piece();                 parses what is buffered, never waits
//   transfer read_more();                   then `read_done(co_await read_more())`
//   std::error_code read_done(const transfer_result&);  a proxy error, or none
//   const http::headers& trailers() const;  valid once `next_piece` said `end`
//   void body_done() noexcept;              the body ended whole
// Where it goes: a codec's sending side, which frames what it is given.
//   bool queue(std::string_view piece);     false: too big to copy, `send(piece)` it
//   bool has_queued() const noexcept;
//   void queue_end(const http::headers& trailers);
//   transfer send(std::string_view piece = {});  writes what is queued, then `piece`
//   std::error_code written(const transfer_result&);  a proxy error, or none
// Policies edit fields freely; a name that is no token, or a CR, LF or NUL in a value,
// would end the message early on the wire: such fields are dropped.
inline void drop_unwritable_fields(http::headers& fields) noexcept {
  if (fields.writable()) return;
  for (auto it = fields.begin(); it != fields.end();) {
    const http::field f = *it;
    if (http::is_writable_field(f.name, f.value))
      ++it;
    else
      it = fields.erase(it);
  }
}

struct pump_result {
  std::error_code error;  // the side that failed, as a proxy (or codec) error
  bool answered = false;  // a body phase answered: the exchange has a local response
};

// `run_phase(body_chunk&)` runs the body phase and returns its `policy::outcome`; with
// `with_phase` false it is never called. `started` becomes true with the first body piece.
// `trailers`, when not null, is where the trailers phase reads and edits the trailers the
// body ended with; `run_trailers()` runs that phase once, when the body had a piece or
// trailers. What is left there goes out, without the fields that cannot be written.
//
// The phase sees every piece as it arrives, the last one marked `end_of_stream`. When the
// source learns that the body ended only after its last piece (a chunked body's last chunk),
// that mark comes on one more, empty piece. A body that had no piece at all reaches the
// phase not at all.
//
// `first` is the source's first step, already taken: `start_pump` begins every pump.
template <class Source, class Sink, class RunPhase, class RunTrailers>
asio::awaitable<pump_result> pump_from(Source& from, Sink& to, bool with_phase, RunPhase run_phase,
                                       bool& started, http::headers* trailers,
                                       RunTrailers run_trailers, body_step first) {
  bool ended_in_phase = false;  // the phase saw `end_of_stream` on a piece with data
  for (body_step step = first;; step = from.next_piece()) {
    switch (step.what) {
      case body_step::kind::piece: {
        started = true;
        ended_in_phase = step.last;
        std::string_view piece = step.data;
        if (with_phase) {
          policy::body_chunk c{piece, step.last};
          policy::outcome o = run_phase(c);
          policy::verdict v = o.value();
          if (!o.ready()) v = co_await std::move(o).awaitable();
          if (v == policy::verdict::respond) co_return pump_result{{}, true};
          piece = c.data;
          if (piece.empty()) break;  // dropped; an empty chunk would end the body
        }
        if (!to.queue(piece)) {
          if (auto ec = to.written(co_await to.send(piece))) co_return pump_result{ec};
        }
        break;
      }
      case body_step::kind::end: {
        if (with_phase && started && !ended_in_phase) {
          policy::body_chunk c{{}, true};
          policy::outcome o = run_phase(c);
          policy::verdict v = o.value();
          if (!o.ready()) v = co_await std::move(o).awaitable();
          if (v == policy::verdict::respond) co_return pump_result{{}, true};
          if (!c.data.empty() && !to.queue(c.data)) {
            if (auto ec = to.written(co_await to.send(c.data))) co_return pump_result{ec};
          }
        }
        const http::headers* sent_trailers = &from.trailers();
        if (trailers != nullptr && (started || !from.trailers().empty())) {
          *trailers = from.trailers();
          policy::outcome o = run_trailers();
          policy::verdict v = o.value();
          if (!o.ready()) v = co_await std::move(o).awaitable();
          if (v == policy::verdict::respond) co_return pump_result{{}, true};
          drop_unwritable_fields(*trailers);
          sent_trailers = trailers;
        }
        to.queue_end(*sent_trailers);
        from.body_done();
        co_return pump_result{to.written(co_await to.send())};
      }
      case body_step::kind::need_more: {
        if (to.has_queued()) {
          if (auto ec = to.written(co_await to.send())) co_return pump_result{ec};
        }
        if (auto ec = from.read_done(co_await from.read_more())) co_return pump_result{ec};
        break;
      }
      case body_step::kind::failed:
        co_return pump_result{step.error};
    }
  }
}

// How a pump began: either the body is over and queued, its end included (the caller sends
// what is queued and takes the result with `written`), or `rest` awaits the remainder.
struct pump_start {
  bool ended = false;
  asio::awaitable<pump_result> rest{};
};

// Starts a pump the way most bodies allow: with no phase to run, what the source already
// holds (often the whole body, or its absence) is queued at once, and only a body that needs
// a read, or a piece too big to copy, gets a coroutine of its own (about 250 instructions).
// A sink's `queue` copies any piece up to `coalesce_limit`.
template <class Source, class Sink, class RunPhase, class RunTrailers>
pump_start start_pump(Source& from, Sink& to, bool with_phase, RunPhase run_phase, bool& started,
                      http::headers* trailers, RunTrailers run_trailers) {
  body_step step = from.next_piece();
  if (!with_phase && trailers == nullptr) {
    for (;; step = from.next_piece()) {
      if (step.what == body_step::kind::piece && step.data.size() <= coalesce_limit) {
        started = true;
        to.queue(step.data);
        continue;
      }
      if (step.what != body_step::kind::end) break;
      to.queue_end(from.trailers());
      from.body_done();
      return {true, {}};
    }
  }
  return {false, pump_from(from, to, with_phase, std::move(run_phase), started, trailers,
                           std::move(run_trailers), step)};
}

}  // namespace gantry::detail
