#include "gantry/route/weighted_split.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <random>
#include <string>
#include <vector>

using gantry::http::headers;
using namespace gantry::route;

namespace {

// How many of `picks` random picks went to each cluster.
std::map<std::string, int> tally(const weighted_split& split, int picks, std::uint64_t seed,
                                 const headers& fields = {}) {
  std::mt19937_64 random{seed};
  std::map<std::string, int> counts;
  for (int i = 0; i < picks; ++i) ++counts[pick_cluster(split, fields, random).cluster];
  return counts;
}

}  // namespace

TEST_CASE("route weighted split: random picks follow the weights") {
  constexpr int picks = 100'000;

  SUBCASE("90/10 within 1% over 100k picks") {
    auto counts = tally({.clusters = {{"blue", 90}, {"green", 10}}}, picks, 42);
    CHECK(counts["blue"] == doctest::Approx(90'000).epsilon(0.01));
    CHECK(counts["green"] == doctest::Approx(10'000).epsilon(0.1));  // ±1% of all picks
    CHECK(counts["blue"] + counts["green"] == picks);
  }
  SUBCASE("three ways, a zero weight never picked") {
    auto counts = tally({.clusters = {{"a", 1}, {"off", 0}, {"b", 2}, {"c", 7}}}, picks, 7);
    CHECK(counts.count("off") == 0);
    CHECK(counts["a"] == doctest::Approx(10'000).epsilon(0.1));
    CHECK(counts["b"] == doctest::Approx(20'000).epsilon(0.05));
    CHECK(counts["c"] == doctest::Approx(70'000).epsilon(0.02));
  }
  SUBCASE("a single cluster takes everything") {
    auto counts = tally({.clusters = {{"only", 3}}}, 1000, 1);
    CHECK(counts["only"] == 1000);
  }
  SUBCASE("the same seed gives the same sequence") {
    weighted_split split{.clusters = {{"a", 50}, {"b", 50}}};
    std::mt19937_64 one{99}, two{99};
    for (int i = 0; i < 1000; ++i)
      CHECK(&pick_cluster(split, {}, one) == &pick_cluster(split, {}, two));
  }
}

TEST_CASE("route weighted split: pick_index reads the draw as a fraction of the total weight") {
  weighted_split split{.clusters = {{"a", 1}, {"b", 3}}};
  CHECK(pick_index(split, 0) == 0);
  CHECK(pick_index(split, (std::uint64_t{1} << 62) - 1) == 0);  // just under 1/4
  CHECK(pick_index(split, std::uint64_t{1} << 62) == 1);
  CHECK(pick_index(split, ~std::uint64_t{0}) == 1);
  CHECK(pick_index(weighted_split{.clusters = {{"a", 0}, {"b", 0}}}, 12345) == 0);
  // Weights summing past 32 bits still split correctly.
  weighted_split big{.clusters = {{"a", 0xffffffffu}, {"b", 0xffffffffu}}};
  CHECK(pick_index(big, (std::uint64_t{1} << 63) - 1) == 0);
  CHECK(pick_index(big, std::uint64_t{1} << 63) == 1);
}

TEST_CASE("route weighted split: a sticky key keeps one client on one cluster") {
  weighted_split split{.clusters = {{"stable", 90}, {"canary", 10}},
                       .sticky = sticky_key{.from = sticky_key::source::header, .name = "X-User"}};

  SUBCASE("the same value always maps to the same cluster, whatever the generator says") {
    std::mt19937_64 random{3};
    for (int user = 0; user < 200; ++user) {
      headers h;
      h.add("x-user", fmt::format("user-{}", user));
      const weighted_cluster& first = pick_cluster(split, h, random);
      for (int again = 0; again < 20; ++again) CHECK(&pick_cluster(split, h, random) == &first);
    }
  }
  SUBCASE("different values spread by weight") {
    std::mt19937_64 random{5};
    std::map<std::string, int> counts;
    for (int user = 0; user < 20'000; ++user) {
      headers h;
      h.add("X-User", fmt::format("user-{}", user));
      ++counts[pick_cluster(split, h, random).cluster];
    }
    CHECK(counts["stable"] == doctest::Approx(18'000).epsilon(0.02));
    CHECK(counts["canary"] == doctest::Approx(2'000).epsilon(0.15));  // ±1.5% of all
  }
  SUBCASE("without the key, or with it empty, the pick is random by weight") {
    headers empty_value;
    empty_value.add("X-User", "");
    CHECK_FALSE(sticky_value(split, {}).has_value());
    CHECK_FALSE(sticky_value(split, empty_value).has_value());
    auto counts = tally(split, 100'000, 11, empty_value);
    CHECK(counts["stable"] == doctest::Approx(90'000).epsilon(0.01));
  }
  SUBCASE("raising the canary's weight only moves clients onto it") {
    weighted_split more = split;
    more.clusters = {{"stable", 80}, {"canary", 20}};
    int moved_on = 0;
    for (int user = 0; user < 5'000; ++user) {
      const std::string key = fmt::format("user-{}", user);
      std::size_t before = pick_index(split, sticky_hash(key));
      std::size_t after = pick_index(more, sticky_hash(key));
      if (before == 1) CHECK(after == 1);
      moved_on += before == 0 && after == 1;
    }
    CHECK(moved_on == doctest::Approx(500).epsilon(0.25));
  }
}

TEST_CASE("route weighted split: sticky keys from cookies") {
  weighted_split split{.clusters = {{"a", 1}, {"b", 1}},
                       .sticky = sticky_key{.from = sticky_key::source::cookie, .name = "sid"}};
  auto value_in = [&](std::vector<std::string> cookie_fields) {
    headers h;
    h.add("Accept", "*/*");
    for (auto& c : cookie_fields) h.add("Cookie", c);
    auto value = sticky_value(split, h);
    return value ? std::string{*value} : std::string{"<none>"};
  };
  CHECK(value_in({"sid=abc"}) == "abc");
  CHECK(value_in({"theme=dark; sid=abc; lang=en"}) == "abc");
  CHECK(value_in({"theme=dark;sid=abc"}) == "abc");
  CHECK(value_in({"sid=\"quoted\""}) == "quoted");
  CHECK(value_in({"theme=dark", "sid=second-field"}) == "second-field");  // HTTP/2 style
  CHECK(value_in({"xsid=abc; SID=abc"}) == "<none>");                     // names: exact case
  CHECK(value_in({"sid="}) == "<none>");
  CHECK(value_in({}) == "<none>");

  headers h;
  h.add("Cookie", "sid=abc");
  std::mt19937_64 random{1};
  const weighted_cluster& first = pick_cluster(split, h, random);
  for (int i = 0; i < 50; ++i) CHECK(&pick_cluster(split, h, random) == &first);
}

TEST_CASE("route weighted split: the sticky hash is pinned") {
  // FNV-1a 64 + fmix64, computed independently. Changing these values would move every
  // sticky client to another cluster.
  CHECK(sticky_hash("") == 0xefd01f60ba992926u);
  CHECK(sticky_hash("user-1") == 0x41a2fca5c68401c5u);
  CHECK(sticky_hash("user-2") != sticky_hash("user-1"));
}
