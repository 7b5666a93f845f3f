#include "gantry/http/path_normalization.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using gantry::http::encoded_slashes;
using gantry::http::normalize_path;
using gantry::http::path_error;
using gantry::http::path_normalization;

namespace {

struct row {
  std::string_view in, out;
};

// The normalised target, or the error's name.
std::string normalized(std::string_view in, const path_normalization& options = {}) {
  std::string target{in};
  switch (normalize_path(target, options)) {
    case path_error::none: return target;
    case path_error::bad_percent_encoding: return "<bad percent-encoding>";
    case path_error::encoded_slash: return "<encoded slash>";
  }
  return "<unknown>";
}

void check_rows(std::initializer_list<row> rows, const path_normalization& options = {}) {
  for (const row& r : rows) {
    CAPTURE(r.in);
    CHECK(normalized(r.in, options) == r.out);
  }
}

}  // namespace

TEST_CASE("paths already normal are left as they are") {
  check_rows({{"/", "/"},
              {"/users/7", "/users/7"},
              {"/a/b/", "/a/b/"},
              {"/search?q=a/../b&x=%2f", "/search?q=a/../b&x=%2f"},  // the query is not touched
              {"/?", "/?"},
              {"*", "*"},  // asterisk-form (OPTIONS *)
              {"/%20x%C3%A9", "/%20x%C3%A9"}});
}

TEST_CASE("dot segments are removed as RFC 3986 5.2.4 says, never above the root") {
  check_rows({{"/public/../admin", "/admin"},
              {"/a/./b", "/a/b"},
              {"/a/b/..", "/a/"},
              {"/a/b/.", "/a/b/"},
              {"/a/b/../../..", "/"},
              {"/..", "/"},
              {"/../../admin", "/admin"},
              {"/.", "/"},
              {"/a/.b/..c/...", "/a/.b/..c/..."},  // only whole segments are dots
              {"/a/..?x=1", "/?x=1"},
              {"/a/b/../c/./d/", "/a/c/d/"}});
}

TEST_CASE("percent-encoded unreserved characters are decoded, other encodings uppercased") {
  check_rows({{"/%61dmin", "/admin"},
              {"/%41%5a%30%39%2d%2E%5F%7e", "/AZ09-._~"},
              {"/a%2e%2E/b", "/a../b"},
              {"/x/%2e%2e/admin", "/admin"},  // decoded dots are dot segments
              {"/x/%2e/admin", "/x/admin"},
              {"/a%3fb", "/a%3Fb"},  // '?' stays encoded: it is not unreserved
              {"/caf%c3%a9", "/caf%C3%A9"},
              {"/%00", "/%00"},
              {"/%25", "/%25"}});  // a literal '%' stays encoded, never decoded twice
}

TEST_CASE("runs of slashes are merged unless turned off") {
  check_rows({{"//admin", "/admin"}, {"/a///b//", "/a/b/"}, {"///", "/"}, {"//../admin", "/admin"}});
  path_normalization keep_slashes;
  keep_slashes.merge_slashes = false;
  check_rows({{"//admin", "//admin"}, {"/a//..", "/a/"}, {"/a//b/../c", "/a//c"}}, keep_slashes);
}

TEST_CASE("encoded slashes and backslashes are refused, or kept when configured") {
  check_rows({{"/admin%2F", "<encoded slash>"},
              {"/admin%2f", "<encoded slash>"},
              {"/a%5Cb", "<encoded slash>"},
              {"/a%5cb", "<encoded slash>"}});
  path_normalization keep;
  keep.slashes = encoded_slashes::keep;
  check_rows({{"/admin%2f", "/admin%2F"}, {"/a%5cb/../c", "/c"}, {"/a/%2F..", "/a/%2F.."}}, keep);
}

TEST_CASE("malformed percent-encodings are refused") {
  for (std::string_view bad : {"/%", "/%4", "/a%zz", "/%g1", "/x%2", "/%%41", "/% 1"}) {
    CAPTURE(bad);
    CHECK(normalized(bad) == "<bad percent-encoding>");
  }
  CHECK(normalized("/a?%zz") == "/a?%zz");  // the query is the application's business
}

TEST_CASE("normalising twice changes nothing") {
  for (std::string_view in : {"/public/../admin", "//a/./b/%2e%2e/c%7e", "/a/b/../../..",
                              "/caf%c3%a9//x/", "/%2e%2e%2f"}) {
    std::string once{in};
    if (normalize_path(once, {}) != path_error::none) continue;
    std::string twice = once;
    REQUIRE(normalize_path(twice, {}) == path_error::none);
    CAPTURE(in);
    CHECK(twice == once);
  }
}
