// The `adaconv` layer type through the plugin API (factory, parameter specs, infer, create),
// without loading the shared library: the layer source is compiled into this test and its
// registration run into a private Registry.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include "adaconv_op.hpp"
#include "gan/layer.hpp"
#include "gan/plugin.hpp"

namespace {

const gan::LayerFactory& factory(gan::Registry& reg) {
  gan::Registrar r(reg, "adaconv", "test_adaconv_layer");
  for (auto& fn : gan::detail::local_registrations()) fn(r);
  return reg.layer("adaconv");
}

gan::LayerContext context(const gan::LayerFactory& f, gan::Shape input,
                          std::vector<std::pair<std::string, gan::ParamValue>> values) {
  gan::Params raw("layer 'up1' (adaconv)", gan::Source{"model.toml", 14});
  for (auto& [k, v] : values) raw.set(k, v, gan::Source{"model.toml", 15});
  gan::LayerContext c;
  c.name = "up1";
  c.type = "adaconv";
  c.input = std::move(input);
  c.params = gan::validate_params(f.params, raw);
  return c;
}

}  // namespace

TEST_CASE("adaconv layer: infer agrees with the module it creates", "[adaconv][layer]") {
  gan::Registry reg;
  const gan::LayerFactory& f = factory(reg);
  for (const char* impl : {"auto", "fused", "reference"}) {
    INFO(impl);
    const gan::LayerContext c = context(f, {6, 5, 7}, {{"out_channels", int64_t(4)},
                                                       {"adaptive_kernel_size", int64_t(5)},
                                                       {"impl", std::string(impl)}});
    const gan::LayerInfo info = f.infer(c);
    CHECK((info.output == gan::Shape{4, 5, 7}));
    CHECK(info.params == adaconv::param_count(6, 4, 3, 5));
    CHECK(info.macs == adaconv::macs_per_sample(6, 4, 5, 7, 3, 5));
    auto layer = f.create(c);
    int64_t n = 0;
    for (const auto& p : layer->parameters()) n += p.numel();
    CHECK(n == info.params);
    torch::Tensor x = torch::randn({2, 6, 5, 7}, torch::requires_grad());
    torch::Tensor y = layer->forward(x);
    CHECK((y.sizes() == torch::IntArrayRef{2, 4, 5, 7}));
    y.sum().backward();
    for (const auto& p : layer->parameters()) CHECK(p.grad().defined());
    CHECK((layer->reparametrisable_weight().sizes() == torch::IntArrayRef{4, 6, 5, 5}));
  }
}

TEST_CASE("adaconv layer: configuration errors are located and explained", "[adaconv][layer]") {
  gan::Registry reg;
  const gan::LayerFactory& f = factory(reg);
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(f.infer(context(f, {64}, {{"out_channels", int64_t(4)}})),
                    Contains("model.toml:14") && Contains("needs a {C, H, W} input"));
  CHECK_THROWS_WITH(f.infer(context(f, {3, 8, 8}, {{"out_channels", int64_t(4)}, {"kernel_size", int64_t(4)}})),
                    Contains("kernel_size must be odd"));
  CHECK_THROWS(context(f, {3, 8, 8}, {{"out_channels", int64_t(4)}, {"impl", std::string("fast")}}));
  CHECK_THROWS(context(f, {3, 8, 8}, {}));  // out_channels is required
}

TEST_CASE("adaconv layer: declares which impl has a second derivative", "[adaconv][layer][double_backward]") {
  gan::Registry reg;
  const gan::LayerFactory& f = factory(reg);
  using Catch::Matchers::Contains;
  REQUIRE(f.no_double_backward);
  CHECK(f.no_double_backward(context(f, {3, 8, 8}, {{"out_channels", int64_t(4)}, {"impl", std::string("reference")}})
                                 .params) == "");
  const std::string dflt = f.no_double_backward(context(f, {3, 8, 8}, {{"out_channels", int64_t(4)}}).params);
  CHECK_THAT(dflt, Contains("impl = \"auto\" (the default)") && Contains("no second derivative") &&
                       Contains("impl = \"reference\""));
  const std::string fused =
      f.no_double_backward(context(f, {3, 8, 8}, {{"out_channels", int64_t(4)}, {"impl", std::string("fused")}}).params);
  CHECK_THAT(fused, Contains("impl = \"fused\" (model.toml:15)"));
}

TEST_CASE("adaconv layer: spectral_norm normalises its three convolution weights", "[adaconv][layer][specnorm]") {
  gan::Registry reg;
  const gan::LayerFactory& f = factory(reg);
  CHECK(f.has_weight);
  const gan::LayerFactory& snf = reg.layer("spectral_norm");
  torch::manual_seed(41);
  for (const char* impl : {"auto", "reference"}) {
    INFO(impl);
    const gan::LayerContext c = context(f, {3, 6, 5}, {{"out_channels", int64_t(4)}, {"impl", std::string(impl)}});
    auto inner = f.create(c);
    const auto ws = inner->reparametrisable_weights();
    REQUIRE(ws.size() == 3);
    CHECK(ws[0].name == "bias_weight");
    CHECK(ws[1].name == "depthwise_weight");
    CHECK(ws[2].name == "pointwise_weight");
    CHECK(ws[0].weight.is_same(inner->reparametrisable_weight()));
    const gan::LayerInfo info = f.infer(c);
    gan::LayerContext wc = c;
    wc.type = "spectral_norm";
    wc.params = gan::validate_params(snf.params, gan::Params("wrap", gan::Source{"model.toml", 16}));
    wc.inner_info = &info;
    wc.inner = inner;
    auto sn = snf.create(wc);
    auto buffers = sn->named_buffers();
    for (const char* k : {"u_bias_weight", "v_bias_weight", "u_depthwise_weight", "v_depthwise_weight",
                          "u_pointwise_weight", "v_pointwise_weight"})
      CHECK(buffers.contains(k));
    CHECK(sn->parameters().size() == 6);

    sn->train();
    const torch::Tensor x = torch::randn({2, 3, 6, 5});
    for (int i = 0; i < 5; ++i) sn->forward(x);
    // Evaluation mode: the forward is adaconv with each weight divided by its largest singular value.
    sn->eval();
    const torch::Tensor y = sn->forward(x);
    auto params = inner->named_parameters();
    auto normalised = [&](const char* name) {
      const torch::Tensor w = params[name].detach();
      return w / torch::linalg_svdvals(w.reshape({w.size(0), -1}))[0];
    };
    const adaconv::Weights wn{normalised("depthwise_weight"), params["depthwise_bias"].detach(),
                              normalised("pointwise_weight"), params["pointwise_bias"].detach(),
                              normalised("bias_weight"), params["bias_bias"].detach()};
    const torch::Tensor y_ref = adaconv::forward(x, wn, 3, adaconv::Impl::Reference);
    const double scale = std::max(1e-6, y_ref.abs().max().item<double>());
    CHECK((y - y_ref).abs().max().item<double>() / scale < 1e-3);
    // Training: every parameter gets a gradient through the normalised weights.
    sn->train();
    sn->zero_grad();
    (sn->forward(x) * torch::randn({2, 4, 6, 5})).sum().backward();
    for (const auto& p : sn->named_parameters()) {
      INFO(p.key());
      REQUIRE(p.value().grad().defined());
    }
    CHECK(params["pointwise_weight"].grad().abs().sum().item<double>() > 0);
  }
}
