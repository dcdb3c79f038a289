// Networks built from checked models (gan/network.hpp).
#include "gan/network.hpp"

#include <torch/torch.h>

#include <cmath>

namespace gan {

namespace {
// An empty module that holds a block instance's layers, so that their parameters are named
// "block2.conv1.weight" (a submodule's own name cannot contain a dot).
struct GroupImpl : torch::nn::Module {};
}  // namespace

NetworkImpl::NetworkImpl(const NetworkReport& report, const Registry& reg) : report_(report) {
  std::map<std::string, size_t> index;
  for (const auto& lr : report.layers) {
    const LayerFactory& f = reg.layer(lr.type, lr.where);
    LayerContext ctx;
    ctx.name = lr.name;
    ctx.type = lr.type;
    ctx.input = lr.input;
    ctx.input_from = lr.input_from;
    ctx.inputs = lr.input_shapes.empty() ? std::vector<Shape>{lr.input} : lr.input_shapes;
    ctx.inputs_from = std::vector<std::string>(ctx.inputs.size(), lr.input_from);
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
    // "block2.inner.conv1": containers "block2", "block2.inner", then the layer "conv1" in the last
    torch::nn::Module* parent = this;
    size_t start = 0;
    for (size_t dot = lr.name.find('.'); dot != std::string::npos; dot = lr.name.find('.', dot + 1)) {
      const std::string prefix = lr.name.substr(0, dot);
      auto it = groups_.find(prefix);
      if (it == groups_.end()) {
        auto g = std::make_shared<GroupImpl>();
        parent->register_module(lr.name.substr(start, dot - start), g);
        it = groups_.emplace(prefix, g).first;
      }
      parent = it->second.get();
      start = dot + 1;
    }
    parent->register_module(lr.name.substr(start), layer);
    std::vector<long> ins;
    for (const auto& in : lr.inputs) {
      auto it = index.find(in);
      ins.push_back(it == index.end() ? -1 : static_cast<long>(it->second));
    }
    if (ins.empty()) ins.push_back(layers_.empty() ? -1 : static_cast<long>(layers_.size() - 1));
    index[lr.name] = layers_.size();
    inputs_.push_back(std::move(ins));
    layers_.push_back(layer);
  }
  last_use_.assign(layers_.size(), 0);
  for (size_t i = 0; i < layers_.size(); ++i)
    for (long j : inputs_[i])
      if (j >= 0) last_use_[j] = std::max(last_use_[j], i);
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& x) {
  if (layers_.empty()) return x;
  std::vector<torch::Tensor> out(layers_.size());
  auto input = [&](long j) -> const torch::Tensor& { return j < 0 ? x : out[j]; };
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& ins = inputs_[i];
    if (ins.size() == 1) {
      out[i] = layers_[i]->forward(input(ins[0]));
    } else {
      std::vector<torch::Tensor> xs;
      xs.reserve(ins.size());
      for (long j : ins) xs.push_back(input(j));
      out[i] = layers_[i]->forward_inputs(xs);
    }
    // outputs no later layer reads are dropped now (autograd keeps what backward needs)
    for (long j : ins)
      if (j >= 0 && last_use_[j] == i) out[j] = torch::Tensor();
  }
  return out.back();
}

namespace {
// Truncated normal by redrawing out-of-range values (as TensorFlow's truncated_normal).
void draw_paper(torch::Tensor& t, double std, at::Generator& gen) {
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
}

// Glorot & Bengio's uniform init, with fans as torch.nn.init computes them.
void draw_xavier(torch::Tensor& t, at::Generator& gen) {
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  const double fan_in = static_cast<double>(t.size(1) * receptive), fan_out = static_cast<double>(t.size(0) * receptive);
  const double a = std::sqrt(6.0 / (fan_in + fan_out));
  auto v = at::empty(t.sizes(), t.options().device(torch::kCPU).dtype(torch::kFloat64));
  v.uniform_(-a, a, gen);
  t.copy_(v.to(t.options()));
}

bool is_bias(const std::string& name) { return name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0; }

void init_module(torch::nn::Module& m, const std::string& mode, double std, at::Generator& gen) {
  for (auto& p : m.named_parameters(/*recurse=*/true)) {
    auto& t = p.value();
    if (t.dim() >= 2) {
      if (mode == "paper") draw_paper(t, std, gen);
      else draw_xavier(t, gen);
    } else if (t.dim() == 1 && is_bias(p.key())) {
      t.zero_();
    }
  }
}

void after_reinit(torch::nn::Module& m) {
  // State derived from the weights at construction (spectral_norm's u, v) follows the new ones.
  for (const auto& sub : m.modules(/*include_self=*/true))
    if (auto* layer = dynamic_cast<Layer*>(sub.get())) layer->weights_reinitialised();
}
}  // namespace

void init_network(NetworkImpl& net, const std::string& model_init, double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto& layers = net.report().layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string& mode = layers[i].init.empty() ? model_init : layers[i].init;
    if (mode == "default") continue;
    init_module(*net.layers()[i], mode, std, gen);
  }
  after_reinit(net);
}

void init_paper(torch::nn::Module& m, double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  init_module(m, "paper", std, gen);
  after_reinit(m);
}

}  // namespace gan
