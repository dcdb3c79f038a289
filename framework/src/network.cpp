// Networks built from checked models (gan/network.hpp).
#include "gan/network.hpp"

#include <torch/torch.h>

namespace gan {

NetworkImpl::NetworkImpl(const NetworkReport& report, const Registry& reg) : report_(report) {
  for (const auto& lr : report.layers) {
    const LayerFactory& f = reg.layer(lr.type, lr.where);
    LayerContext ctx;
    ctx.name = lr.name;
    ctx.type = lr.type;
    ctx.input = lr.input;
    ctx.input_from = lr.input_from;
    ctx.params = lr.params;
    std::shared_ptr<Layer> layer;
    try {
      layer = f.create(ctx);
      if (lr.wrap) {
        const LayerFactory& wf = reg.layer(lr.wrap->type, lr.wrap->where);
        LayerInfo inner_info{lr.output, lr.params_count, lr.macs};
        LayerContext wctx = ctx;
        wctx.type = lr.wrap->type;
        wctx.params = lr.wrap->raw;
        wctx.inner_info = &inner_info;
        wctx.inner = layer;
        layer = wf.create(wctx);
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(lr.where, "layer '" + lr.name + "' (" + lr.type + "): cannot create: " + e.what());
    }
    if (!layer) throw Error(lr.where, "layer '" + lr.name + "' (" + lr.type + "): the plugin returned no module");
    register_module(lr.name, layer);
    layers_.push_back(layer);
  }
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) h = layers_[i]->forward(h);
  return h;
}

void init_paper(torch::nn::Module& m, double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& p : m.named_parameters(/*recurse=*/true)) {
    auto& t = p.value();
    const std::string& name = p.key();
    bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (t.dim() >= 2) {
      // truncated normal by redrawing out-of-range values (as TensorFlow's truncated_normal)
      auto v = at::empty(t.sizes(), t.options().device(torch::kCPU).dtype(torch::kFloat64));
      v.normal_(0.0, 1.0, gen);
      for (int round = 0; round < 64; ++round) {
        auto bad = v.abs() > 2.0;
        if (!bad.any().item<bool>()) break;
        auto redraw = at::empty(t.sizes(), v.options()).normal_(0.0, 1.0, gen);
        v = at::where(bad, redraw, v);
      }
      v = v.clamp(-2.0, 2.0) * std;
      t.copy_(v.to(t.options()));
    } else if (t.dim() == 1 && is_bias) {
      t.zero_();
    }
  }
  // State derived from the weights at construction (spectral_norm's u, v) follows the new ones.
  for (const auto& sub : m.modules(/*include_self=*/true))
    if (auto* layer = dynamic_cast<Layer*>(sub.get())) layer->weights_reinitialised();
}

}  // namespace gan
