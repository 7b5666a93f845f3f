// The exchange driver's one body pump, between a scripted source and a sink that frames with
// the HTTP/1 body writer: what reaches the wire, in which writes, and what the body phase sees.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>

#include <deque>
#include <string>
#include <vector>

#include "../lib/gateway/body_pump.hpp"
#include "../lib/gateway/http1_body_writer.hpp"
#include "gantry/http/headers.hpp"
#include "gantry/testing/run_awaitable.hpp"

namespace {

using gantry::detail::body_step;
using gantry::detail::transfer;
using gantry::detail::transfer_result;
using kind = gantry::detail::body_step::kind;

// Hands out its script one step at a time; a read adds nothing but may fail.
struct scripted_source {
  std::deque<body_step> script;
  std::vector<std::string> owned;  // the bytes pieces view
  std::error_code read_error{};
  int reads = 0;
  bool done = false;
  gantry::http::headers trailer_fields;

  void piece(std::string bytes, bool last = false) {
    owned.reserve(16);  // pieces view these strings: they must not move
    owned.push_back(std::move(bytes));
    script.push_back({kind::piece, owned.back(), {}, last});
  }
  void step(kind k, std::error_code ec = {}) { script.push_back({k, {}, ec}); }

  body_step next_piece() {
    REQUIRE_FALSE(script.empty());
    body_step s = script.front();
    script.pop_front();
    return s;
  }
  transfer read_more() {
    ++reads;
    co_return transfer_result{read_error, read_error ? 0 : 1};
  }
  std::error_code read_done(const transfer_result& r) { return std::get<0>(r); }
  const gantry::http::headers& trailers() const { return trailer_fields; }
  void body_done() noexcept { done = true; }
};

// Frames with the real HTTP/1 body writer and records each write whole.
struct recording_sink {
  std::string out;
  gantry::detail::http1_body_writer writer{out};
  std::vector<std::string> writes;
  std::error_code write_error{};

  bool queue(std::string_view piece) { return writer.queue(piece); }
  bool has_queued() const noexcept { return writer.has_queued(); }
  void queue_end(const gantry::http::headers& trailers) { writer.queue_end(trailers); }
  transfer send(std::string_view piece = {}) {
    writes.push_back(out + std::string{piece});
    co_return transfer_result{write_error, out.size() + piece.size()};
  }
  std::error_code written(const transfer_result& r) {
    writer.wrote();
    return std::get<0>(r);
  }
};

// For pumps without a trailers phase.
gantry::policy::outcome no_trailers_phase() {
  FAIL("the trailers phase ran");
  return gantry::policy::verdict::continue_;
}

// Runs a pump as the exchange flow does: `start_pump`, then either the one write of a body it
// queued whole (`*at_once` true), or the rest of the pump.
template <class Phase>
gantry::detail::pump_result run_pump(scripted_source& from, recording_sink& to, bool with_phase,
                                     Phase phase, bool& started, bool* at_once = nullptr) {
  asio::io_context io;
  auto start = gantry::detail::start_pump(from, to, with_phase, std::move(phase), started, nullptr,
                                          no_trailers_phase);
  if (at_once != nullptr) *at_once = start.ended;
  if (!start.ended) return gantry::testing::run_awaitable(io, std::move(start.rest));
  return {to.written(gantry::testing::run_awaitable(io, to.send()))};
}

// Runs the pump without a body phase.
gantry::detail::pump_result pump(scripted_source& from, recording_sink& to, bool& started,
                                 bool* at_once = nullptr) {
  auto never = [](gantry::policy::body_chunk&) -> gantry::policy::outcome {
    FAIL("the body phase ran");
    return gantry::policy::verdict::continue_;
  };
  return run_pump(from, to, false, never, started, at_once);
}

}  // namespace

TEST_CASE("body pump: pieces are framed, queued until a read is needed, and end with trailers") {
  scripted_source from;
  from.piece("ab");
  from.step(kind::need_more);
  from.piece("cd");
  from.piece("e");
  from.step(kind::end);
  from.trailer_fields.add("Checksum", "x");
  recording_sink to;
  to.writer.begin(true);
  bool started = false;
  bool at_once = true;
  const auto r = pump(from, to, started, &at_once);
  CHECK_FALSE(at_once);  // a read was needed: the rest of the pump did it
  CHECK_FALSE(r.error);
  CHECK_FALSE(r.answered);
  CHECK(started);
  CHECK(from.done);
  CHECK(from.reads == 1);
  REQUIRE(to.writes.size() == 2);
  CHECK(to.writes[0] == "2\r\nab\r\n");  // flushed before waiting for more
  CHECK(to.writes[1] == "2\r\ncd\r\n1\r\ne\r\n0\r\nChecksum: x\r\n\r\n");
}

TEST_CASE("body pump: a large piece is written from where it lies, its CRLF after it") {
  scripted_source from;
  from.piece("ab");
  from.piece(std::string(5000, 'x'));
  from.step(kind::end);
  recording_sink to;
  to.writer.begin(true);
  bool started = false;
  CHECK_FALSE(pump(from, to, started).error);
  REQUIRE(to.writes.size() == 2);
  CHECK(to.writes[0] == "2\r\nab\r\n1388\r\n" + std::string(5000, 'x'));
  CHECK(to.writes[1] == "\r\n0\r\n\r\n");
}

TEST_CASE("body pump: a body with a length goes as it is, a bodyless one not at all") {
  for (bool bodyless : {false, true}) {
    CAPTURE(bodyless);
    scripted_source from;
    from.piece("abc");
    from.step(kind::end);
    recording_sink to;
    to.out = "HEAD\r\n";  // a head queued before the body
    to.writer.begin(false, bodyless);
    bool started = false;
    bool at_once = false;
    CHECK_FALSE(pump(from, to, started, &at_once).error);
    CHECK(at_once);  // all of it was there: queued without a pump coroutine, one write
    CHECK(from.done);
    REQUIRE(to.writes.size() == 1);
    CHECK(to.writes[0] == (bodyless ? "HEAD\r\n" : "HEAD\r\nabc"));
  }
}

TEST_CASE("body pump: failures of the source, of a read and of a write end it with their error") {
  const auto broken = std::make_error_code(std::errc::bad_message);
  SUBCASE("malformed body") {
    scripted_source from;
    from.piece("ab");
    from.step(kind::failed, broken);
    recording_sink to;
    bool started = false;
    CHECK(pump(from, to, started).error == broken);
    CHECK_FALSE(from.done);
  }
  SUBCASE("read") {
    scripted_source from;
    from.step(kind::need_more);
    from.read_error = broken;
    recording_sink to;
    bool started = false;
    CHECK(pump(from, to, started).error == broken);
    CHECK_FALSE(started);
  }
  SUBCASE("write") {
    scripted_source from;
    from.piece(std::string(5000, 'x'));
    from.step(kind::end);
    recording_sink to;
    to.write_error = broken;
    bool started = false;
    CHECK(pump(from, to, started).error == broken);
    CHECK(to.writes.size() == 1);
  }
}

TEST_CASE("body pump: the body phase sees each piece, then an empty last one, and can answer") {
  // (Unless the source marks its last piece: see the next case.)
  using gantry::policy::body_chunk;
  using gantry::policy::verdict;
  std::vector<std::string> seen;
  std::string replacement = "XY";
  auto phase = [&](body_chunk& c) -> gantry::policy::outcome {
    seen.push_back(std::string{c.data} + (c.end_of_stream ? "|eos" : "|"));
    if (c.data == "drop") c.data = {};
    if (c.data == "swap") c.data = replacement;
    if (c.end_of_stream) c.data = "!";
    if (c.data == "stop") return verdict::respond;
    return verdict::continue_;
  };

  SUBCASE("transformed, dropped and added bytes") {
    scripted_source from;
    from.piece("drop");
    from.piece("swap");
    from.step(kind::end);
    recording_sink to;
    to.writer.begin(true);
    bool started = false;
    const auto r = run_pump(from, to, true, phase, started);
    CHECK_FALSE(r.answered);
    CHECK(seen == std::vector<std::string>{"drop|", "swap|", "|eos"});
    REQUIRE(to.writes.size() == 1);
    CHECK(to.writes[0] == "2\r\nXY\r\n1\r\n!\r\n0\r\n\r\n");
  }
  SUBCASE("an answer stops it, nothing more written") {
    scripted_source from;
    from.piece("ab");
    from.piece("stop");
    from.piece("never");
    from.step(kind::end);
    recording_sink to;
    bool started = false;
    const auto r = run_pump(from, to, true, phase, started);
    CHECK(r.answered);
    CHECK(seen == std::vector<std::string>{"ab|", "stop|"});
    CHECK(to.writes.empty());
    CHECK_FALSE(from.done);
  }
  SUBCASE("no body, no call") {
    scripted_source from;
    from.step(kind::end);
    recording_sink to;
    bool started = false;
    const auto r = run_pump(from, to, true, phase, started);
    CHECK_FALSE(r.answered);
    CHECK(seen.empty());
    CHECK_FALSE(started);
    CHECK(from.done);
  }
}

TEST_CASE("body pump: a piece the source marks last reaches the phase as the end, with no other") {
  using gantry::policy::body_chunk;
  std::vector<std::string> seen;
  auto phase = [&](body_chunk& c) -> gantry::policy::outcome {
    seen.push_back(std::string{c.data} + (c.end_of_stream ? "|eos" : "|"));
    if (c.end_of_stream) c.data = "cd!";  // a last piece may still grow
    return gantry::policy::verdict::continue_;
  };
  scripted_source from;
  from.piece("ab");
  from.piece("cd", true);
  from.step(kind::end);
  recording_sink to;
  to.writer.begin(true);
  bool started = false;
  const auto r = run_pump(from, to, true, phase, started);
  CHECK_FALSE(r.answered);
  CHECK(seen == std::vector<std::string>{"ab|", "cd|eos"});
  REQUIRE(to.writes.size() == 1);
  CHECK(to.writes[0] == "2\r\nab\r\n3\r\ncd!\r\n0\r\n\r\n");
  CHECK(from.done);
}
