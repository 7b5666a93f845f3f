// Replays a fuzz target's corpus in the normal test run: every regular file under the
// directories (or the files) named on the command line is passed once to the target's
// LLVMFuzzerTestOneInput. A failed invariant aborts, and a crash is a crash: either makes
// the test fail, after the path of the input is printed. Silent on success but for one line.
#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// The input being replayed, for the signal handler: a fixed buffer it can read safely.
char current[4096];

void say_which(int) {
  constexpr char prefix[] = "fuzz replay: failed on input ";
  auto ignored = ::write(STDERR_FILENO, prefix, sizeof prefix - 1);
  ignored = ::write(STDERR_FILENO, current, std::strlen(current));
  ignored = ::write(STDERR_FILENO, "\n", 1);
  (void)ignored;
}

void on_signal(int signal) {
  say_which(signal);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

}  // namespace

// AddressSanitizer reports its findings and exits without a signal: its death callback says
// which input it was. The weak declaration keeps builds without sanitizers linking.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    fs::path p{argv[i]};
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator{p})
        if (entry.is_regular_file()) inputs.push_back(entry.path());
    } else if (fs::is_regular_file(p, ec)) {
      inputs.push_back(p);
    } else {
      std::fprintf(stderr, "fuzz replay: no such file or directory: %s\n", argv[i]);
      return 2;
    }
  }
  // An empty corpus is a mistake (a wrong path), not a pass.
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz replay: no inputs found\n");
    return 1;
  }
  std::sort(inputs.begin(), inputs.end());

  for (int s : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(s, on_signal);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback([] { say_which(0); });

  for (const auto& path : inputs) {
    std::snprintf(current, sizeof current, "%s", path.c_str());
    std::ifstream file{path, std::ios::binary};
    std::vector<char> bytes{std::istreambuf_iterator<char>{file}, {}};
    if (!file && !file.eof()) {
      std::fprintf(stderr, "fuzz replay: cannot read %s\n", current);
      return 2;
    }
    // An exactly-sized copy, so that a read past the end shows under AddressSanitizer.
    std::unique_ptr<std::uint8_t[]> data{new std::uint8_t[bytes.size() + (bytes.empty() ? 1 : 0)]};
    std::copy(bytes.begin(), bytes.end(), data.get());
    LLVMFuzzerTestOneInput(data.get(), bytes.size());
  }
  std::printf("fuzz replay: %zu inputs passed\n", inputs.size());
  return 0;
}
