// gan/distributed.hpp — data-parallel training over torch.distributed's c10d: the ranks a
// launcher started (torchrun, or `gan train --nproc N`), their process group (Gloo), and the
// local launcher. docs/distributed.md has the user's view.
//
//   if (auto env = gan::distributed_env()) {          // RANK, WORLD_SIZE, MASTER_ADDR, ... set
//     gan::ProcessGroup group(*env, std::chrono::seconds(300));
//     std::vector<at::Tensor> grads = ...;
//     group.all_reduce_sum(grads);                     // throws gan::Error naming a dead rank
//   }
//
// The rendezvous follows torchrun's conventions: with TORCHELASTIC_USE_AGENT_STORE=True the
// launcher hosts the c10d TCPStore at MASTER_ADDR:MASTER_PORT and every rank is a client;
// otherwise rank 0 hosts it. Each rank keeps a heartbeat counter in the store, so that when a
// collective fails the survivors can say which rank stopped (killed, hung, or failed with an
// error it reported).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gan/collectives.hpp"

namespace gan {

struct DistributedEnv {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;  // TORCHELASTIC_USE_AGENT_STORE=True: the launcher hosts the store
  int restart_count = 0;     // TORCHELASTIC_RESTART_COUNT: keys of a restarted attempt stay apart
};

// The launcher's variables, or nullopt when this process was not started as a rank (RANK and
// WORLD_SIZE unset). Throws gan::Error naming the variable when one is malformed.
std::optional<DistributedEnv> distributed_env();

// Whether this build has c10d's Gloo backend (built with Debian's libgloo-dev present); if not,
// distributed_unavailable() says so and how to get it.
bool distributed_available();
std::string distributed_unavailable();

class ProcessGroup final : public Collectives {
 public:
  // Connects to the store and to the other ranks (all must call it); `timeout` bounds every
  // collective and the rendezvous. With `cuda` (training on cuda:LOCAL_RANK) tensors on the GPU
  // are reduced by NCCL where this LibTorch has it, everything else by Gloo.
  ProcessGroup(const DistributedEnv& env, std::chrono::milliseconds timeout, bool cuda = false);
  ~ProcessGroup() override;
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const override;
  int world_size() const override;
  void all_reduce_sum(std::vector<at::Tensor>& tensors) override;
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0) override;
  at::Tensor all_gather_rows(const at::Tensor& rows) override;
  void barrier() override;
  // The maximum of `value` over the ranks (a CPU round trip; e.g. "did any rank get a signal").
  int64_t all_max(int64_t value);
  // Broadcasts rank `root`'s bytes to every rank.
  std::string broadcast_bytes(const std::string& bytes, int root = 0);
  // Tells the other ranks why this one stops (they quote it in their own error). Never throws.
  void report_failure(const std::string& message) noexcept;
  std::chrono::milliseconds timeout() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `gan train --nproc N`: hosts the store, starts N ranks of this executable with `args` (argv
// without the program name and without --nproc) and torchrun's variables, each in a process group
// of its own, forwards SIGINT/SIGTERM/SIGHUP to them once each, and waits. When a rank fails, the
// others get `timeout` plus a grace period to stop by themselves before they are killed. Returns
// the exit code: 0 when all finished, 130 when they were interrupted and saved, 1 otherwise
// (having logged which ranks failed).
int run_local_ranks(int nproc, const std::vector<std::string>& args, std::chrono::milliseconds timeout);

}  // namespace gan
