// A real shared library that is not a gan plugin: it exports no gan_plugin_info /
// gan_plugin_register (test_registry.cpp checks the loader's message).
extern "C" __attribute__((visibility("default"))) int gan_test_not_a_plugin() { return 42; }
