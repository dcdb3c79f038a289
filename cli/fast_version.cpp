// `gan --version` answered before LibTorch initialises.
//
// Loading LibTorch's libraries is quick (the dynamic loader takes ~3 ms here), but their static
// initialisers (thousands of operator registrations, CUDA stubs) take ~0.35 s, which `gan
// --version` does not need. An executable's .preinit_array functions run after libc is ready and
// before any shared library's initialiser (ELF gABI; glibc's _dl_init), so exactly
// `gan --version` is answered here and the process exits; any other command line, including
// `--version` with other arguments, goes on to main() and CLI11 as before.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "version_line.hpp"

namespace {

void gan_fast_version(int argc, char** argv, char**) {
  if (argc != 2 || !argv || !argv[1] || std::strcmp(argv[1], "--version") != 0) return;
  const std::string line = gan::cli::version_line() + "\n";
  const bool ok = std::fwrite(line.data(), 1, line.size(), stdout) == line.size() && std::fflush(stdout) == 0;
  _exit(ok ? 0 : 1);  // no initialisers ran, so none of their destructors may run either
}

}  // namespace

__attribute__((section(".preinit_array"), used)) static void (*const gan_fast_version_entry)(int, char**,
                                                                                              char**) = gan_fast_version;
