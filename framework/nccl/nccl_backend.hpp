// The entry point of libgan_nccl.so (nccl_backend.cpp), as distributed.cpp calls it through
// dlsym(): one declaration for both sides.
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <cstdint>
#include <string>

// Returns a new reference (c10::intrusive_ptr<c10d::Backend>::reclaim() takes it) or null with
// *error set.
extern "C" {
using gan_nccl_create_fn = c10d::Backend* (*)(const c10::intrusive_ptr<c10d::Store>* store, int rank,
                                              int world_size, int64_t timeout_ms, int device, std::string* error);
__attribute__((visibility("default"))) c10d::Backend* gan_nccl_create(const c10::intrusive_ptr<c10d::Store>* store,
                                                                      int rank, int world_size, int64_t timeout_ms,
                                                                      int device, std::string* error);
}
