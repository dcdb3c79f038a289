// gan/oom.hpp — recognising "out of memory" and saying what to do about it.
//
// LibTorch reports an exhausted allocator in several ways: c10::OutOfMemoryError (CUDA, and the
// CPU allocator in recent versions), a c10::Error whose text says "DefaultCPUAllocator: not
// enough memory" / "out of memory", or std::bad_alloc from plain C++ containers. Each carries a
// multi-line backtrace that tells a user nothing. The trainer catches around the training step:
//
//   try { step(...); }
//   catch (const std::exception& e) {
//     if (gan::is_out_of_memory(e)) throw gan::Error(gan::out_of_memory_message(batch, "cpu", where));
//     throw;
//   }
//
// and main() turns any out-of-memory exception that escapes elsewhere into one line as well
// (with the batch size the trainer noted through note_training_batch()).
// Torch-free header.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "gan/error.hpp"

namespace gan {

// True for std::bad_alloc, c10::OutOfMemoryError, and a c10::Error / std::runtime_error whose
// message says the allocator ran out of memory.
bool is_out_of_memory(const std::exception& e);

// One line without a backtrace: what ran out, the batch size and the fix.
//   "out of memory on cpu while training with batch_size 4096: lower [train] batch_size
//    (e.g. 2048), or use a smaller model or a machine with more memory"
// `batch_size` <= 0 when unknown; `where` (the model's [train] batch_size line) may be empty.
std::string out_of_memory_message(int64_t batch_size, const std::string& device, const Source& where = {});

// The training batch this process runs, for main()'s last-resort message: the trainer notes it
// once it knows it (after building its session), and main() reports an out-of-memory exception
// that escapes with noted_out_of_memory_message(), which names that batch size (or none yet).
void note_training_batch(int64_t batch_size, const std::string& device, const Source& where = {});
std::string noted_out_of_memory_message();

}  // namespace gan
