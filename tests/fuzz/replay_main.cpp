// Runs fuzz_model.cpp's entry points over files, without libFuzzer: the regular (gcc) suite
// replays every tests/fuzz/regressions/ input through exactly the code the fuzzer ran.
//   fuzz_replay FILE...        (GAN_FUZZ_MODELS and GAN_PLUGIN_PATH set as for the fuzzer)
// A finding aborts, as under libFuzzer; success prints one line per file.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_replay FILE...\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "fuzz_replay: cannot read %s\n", argv[i]);
      return 2;
    }
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(data.data(), data.size());
    std::printf("ok %s (%zu bytes)\n", argv[i], data.size());
  }
  return 0;
}
