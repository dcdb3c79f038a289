// gan/collectives.hpp — the processes of a data-parallel training run, as the framework and
// plugins see them. gan/distributed.hpp makes one over torch.distributed's c10d (Gloo on CPU);
// a layer needing global batch statistics asks for batch_statistics_group() and sums through
// all_reduce_sum_autograd():
//
//   if (gan::Collectives* g = gan::batch_statistics_group()) {
//     at::Tensor n_and_sum = gan::all_reduce_sum_autograd(torch::stack({n, x.sum()}), *g);
//     ...
//   }
//
// Every call is collective: all ranks make the same calls, in the same order, with tensors of
// the same shapes (except all_gather_rows's first dimension). A rank that stopped or hangs makes
// the others' calls throw gan::Error naming it, after the group's timeout at the latest.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace gan {

class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In place: every tensor becomes the sum of that tensor over the ranks.
  virtual void all_reduce_sum(std::vector<at::Tensor>& tensors) = 0;
  // In place: every tensor becomes rank `root`'s.
  virtual void broadcast(std::vector<at::Tensor>& tensors, int root = 0) = 0;
  // Every rank's rows concatenated in rank order (the first dimension may differ between ranks,
  // the others may not), returned on every rank.
  virtual at::Tensor all_gather_rows(const at::Tensor& rows) = 0;
  virtual void barrier() = 0;
};

// The sum of `x` over the ranks as an autograd operation: the gradient reaching each rank's x is
// the sum of every rank's gradient of the output (torch.distributed.nn.all_reduce).
at::Tensor all_reduce_sum_autograd(const at::Tensor& x, Collectives& group);

// The group over which layers that compute batch statistics (batchnorm) reduce them in training
// mode: set by the trainer for [train] sync_batchnorm = true with more than one rank, otherwise
// nullptr, and each process normalises by its own share of the batch.
Collectives* batch_statistics_group();
void set_batch_statistics_group(Collectives* group);

}  // namespace gan
