// A library that cannot be loaded: it needs a symbol nobody defines, so dlopen(RTLD_NOW) fails
// and the loader must report dlerror()'s reason with the file name (test_registry.cpp).
extern "C" void gan_test_symbol_that_does_not_exist();
extern "C" __attribute__((visibility("default"))) void gan_test_call_missing() {
  gan_test_symbol_that_does_not_exist();
}
