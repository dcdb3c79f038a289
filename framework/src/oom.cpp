// Recognising out-of-memory exceptions (gan/oom.hpp).
#include "gan/oom.hpp"

#include <c10/util/Exception.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace gan {

bool is_out_of_memory(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return true;  // also std::bad_array_new_length
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return true;
  // c10::Error::what() carries the backtrace; the message proper comes first
  const char* what = e.what();
  if (!what) return false;
  if (dynamic_cast<const c10::Error*>(&e) || dynamic_cast<const std::runtime_error*>(&e)) {
    for (const char* needle : {"DefaultCPUAllocator: not enough memory", "DefaultCPUAllocator: can't allocate memory",
                               "CUDA out of memory", "out of memory", "Out of memory", "OutOfMemoryError",
                               "Cannot allocate memory"}) {
      if (std::strstr(what, needle)) return true;
    }
  }
  return false;
}

std::string out_of_memory_message(int64_t batch_size, const std::string& device, const Source& where) {
  std::string msg = "out of memory";
  if (!device.empty()) msg += " on " + device;
  if (batch_size > 0) {
    msg += " while training with batch_size " + std::to_string(batch_size) + ": lower [train] batch_size";
    if (batch_size > 1) msg += " (e.g. " + std::to_string(batch_size / 2) + ")";
  } else {
    msg += ": lower [train] batch_size";
  }
  msg += ", or use a smaller model (fewer or narrower layers) or a machine with more memory";
  if (device.rfind("cuda", 0) == 0) msg += " (or free the GPU: another process may hold its memory)";
  return where.known() ? where.str() + ": " + msg : msg;
}

namespace {
struct NotedBatch {
  int64_t batch_size = 0;
  std::string device;
  Source where;
};
NotedBatch& noted() {
  static NotedBatch n;
  return n;
}
}  // namespace

void note_training_batch(int64_t batch_size, const std::string& device, const Source& where) {
  noted() = NotedBatch{batch_size, device, where};
}

std::string noted_out_of_memory_message() {
  const NotedBatch& n = noted();
  return out_of_memory_message(n.batch_size, n.device, n.where);
}

}  // namespace gan
