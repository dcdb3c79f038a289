// A plugin whose static initialiser calls abort(): nothing can catch that, but `gan -v` logs
// "loading plugin <path>" before opening each library, so the last line of its output names
// this one (tests/test_bad_input_plugins.cpp).
#include <cstdlib>

#include "gan/plugin.hpp"

namespace {
struct AbortsOnLoad {
  AbortsOnLoad() { std::abort(); }
};
const AbortsOnLoad aborts_on_load;
}  // namespace

GAN_PLUGIN("static_abort_test", "0.0.1")
