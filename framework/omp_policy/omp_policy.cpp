// Sets OMP_WAIT_POLICY=PASSIVE for the executable this object is linked into, before any shared
// library's initialiser runs, unless the user set it.
//
// Why: OpenMP (LibTorch's CPU thread pool) busy-waits between parallel regions by default. On a
// small shared machine that spinning starves the other threads: measured 0.22 it/s against 1.64
// it/s for the Fashion-MNIST baseline with a build running beside it, and a test suite 25x slower.
// libgomp reads the policy once, in its own initialiser, before main(); setting it in main() is
// too late. An executable's .preinit_array functions run before the initialisers of every shared
// library (ELF gABI, glibc's _dl_init), so the policy is in the environment when libgomp reads it,
// without re-executing the binary (which cost `gan --version` 0.7 s).
//
// Linked as an OBJECT library (gan_omp_policy) into `gan`, every test and every benchmark: a
// preinit array only counts in the main executable, never in a shared library.
#include <cstdlib>

namespace {

void gan_passive_omp(int, char**, char**) { ::setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0); }

}  // namespace

__attribute__((section(".preinit_array"), used)) static void (*const gan_passive_omp_entry)(int, char**,
                                                                                            char**) = gan_passive_omp;
