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
