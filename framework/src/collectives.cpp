// gan/collectives.hpp: the autograd all-reduce and the batch-statistics group.
#include "gan/collectives.hpp"

#include <torch/torch.h>

#include <atomic>

namespace gan {
namespace {

std::atomic<Collectives*> g_batch_stats{nullptr};

// y = sum_r x_r on every rank; dL/dx_r = sum_r' dL_r'/dy: each rank's loss reads the same y, so
// the gradient of the sum of the ranks' losses reaches every x through every rank's gradient.
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, int64_t group) {
    ctx->saved_data["group"] = group;
    std::vector<torch::Tensor> t{x.clone()};
    reinterpret_cast<Collectives*>(group)->all_reduce_sum(t);
    return t[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    auto* group = reinterpret_cast<Collectives*>(ctx->saved_data["group"].toInt());
    // differentiable in turn (a gradient penalty through synchronised statistics)
    return {AllReduceSum::apply(grad[0].contiguous(), reinterpret_cast<int64_t>(group)), torch::Tensor()};
  }
};

}  // namespace

at::Tensor all_reduce_sum_autograd(const at::Tensor& x, Collectives& group) {
  return AllReduceSum::apply(x.contiguous(), reinterpret_cast<int64_t>(&group));
}

Collectives* batch_statistics_group() { return g_batch_stats.load(); }
void set_batch_statistics_group(Collectives* group) { g_batch_stats.store(group); }

}  // namespace gan
