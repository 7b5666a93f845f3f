#pragma once
/// @file
/// What a configuration that cannot be loaded is wrong with, and where.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gantry::config {

/// One problem of a configuration document, located in its text.
///
/// ```
/// gantry.yaml:12:15: routes[2].match.path: unknown field 'prefx' (did you mean 'prefix'?)
/// ```
struct diagnostic {
  /// The file name, or the name given to `load_string`.
  std::string file{};
  /// 1-based line of the node the problem is about; 0 when it is about the file as a whole
  /// (one that cannot be read).
  int line = 0;
  /// 1-based column on that line; 0 with `line`.
  int column = 0;
  /// The field it is about, e.g. "routes[2].match.path"; empty for the document itself
  /// (a YAML syntax error). Control bytes of the document's keys are written as `\xNN`.
  std::string path{};
  /// What is wrong, in words a person can act on; on one line (control bytes written as
  /// `\xNN`).
  std::string message{};

  /// "file:line:column: path: message", leaving out the line and column when 0 and the path
  /// when empty.
  std::string to_string() const;

  friend bool operator==(const diagnostic&, const diagnostic&) = default;
};

/// Thrown when a configuration cannot be loaded: it carries every problem found, not only
/// the first, in document order. `what()` lists them one per line, each as
/// `diagnostic::to_string` writes it.
///
/// ```
/// try {
///   auto doc = gantry::config::load_file("gantry.yaml");
/// } catch (const gantry::config::error& e) {
///   std::cerr << e.what() << '\n';                 // every problem, one per line
///   for (const auto& d : e.diagnostics()) ...;     // or structured
/// }
/// ```
class error : public std::runtime_error {
 public:
  /// An error listing `diagnostics` (at least one).
  explicit error(std::vector<diagnostic> diagnostics);

  /// Every problem, in document order.
  const std::vector<diagnostic>& diagnostics() const noexcept { return *diagnostics_; }

 private:
  // Shared, so copying the exception (as throwing may) cannot throw.
  std::shared_ptr<const std::vector<diagnostic>> diagnostics_;
};

}  // namespace gantry::config
