// A plugin whose static initialiser throws: the exception is raised inside dlopen(), where it
// cannot be caught, so gan must report it as an error naming this library (exit 1), not
// "terminate called ..." and SIGABRT (tests/test_bad_input_plugins.cpp).
#include <stdexcept>

#include "gan/plugin.hpp"

namespace {
struct ThrowsOnLoad {
  ThrowsOnLoad() { throw std::runtime_error("static_throw: initialiser failed on purpose"); }
};
const ThrowsOnLoad throws_on_load;
}  // namespace

GAN_PLUGIN("static_throw_test", "0.0.1")
