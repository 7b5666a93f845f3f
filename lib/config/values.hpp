#pragma once
// Parsing and checking the scalar forms configuration uses, and naming near misses.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gantry/http/method.hpp"

namespace gantry::config::detail {

// "250ms", "10s", "1m30s", "2h" or "0"; nothing for anything else, negative values and
// durations past what milliseconds hold.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;

// 4096, "64KiB", "10MB" (KiB/MiB/GiB are 1024-based, KB/MB/GB 1000-based); nothing for
// anything else and sizes past 64 bits.
std::optional<std::uint64_t> parse_byte_size(std::string_view text) noexcept;

// A decimal integer, optionally signed; `negative` tells the sign of `magnitude`.
struct parsed_integer {
  bool negative = false;
  std::uint64_t magnitude = 0;
};
std::optional<parsed_integer> parse_integer(std::string_view text) noexcept;

// The method whose token is `text` ("GET"), case-sensitively.
std::optional<http::method> parse_method(std::string_view text) noexcept;
// Every method token, for suggestions.
std::span<const std::string_view> method_names() noexcept;

// What a "host:port" is for: a listener may leave the host out (every interface) and use
// port 0 (any free port); an upstream endpoint may not.
enum class address_use : std::uint8_t { listen, upstream };

// Why `text` is not a "host:port" address fit for `use`, or nothing when it is. Checks the
// form only: nothing is resolved.
std::optional<std::string> address_problem(std::string_view text, address_use use);

// The candidate closest to `word` when it is close enough to be what was meant (a typo, a
// dash for an underscore, another case), or nothing.
std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates);

// " (did you mean 'x'?)" for the closest candidate, or "".
std::string suggestion(std::string_view word, std::span<const std::string_view> candidates);

// `text` in single quotes for a message: control and non-ASCII bytes escaped as \xNN, and
// cut after 60 characters.
std::string quote(std::string_view text);

// "a, b or c".
std::string join_choices(std::span<const std::string_view> words, std::string_view last = "or");

}  // namespace gantry::config::detail
