// Tests of the loss plugin (plugins/losses): values on known logits against hand-computed numbers,
// stability for large logits, and WGAN-GP's gradient penalty against its closed form for a linear
// and a quadratic critic.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <cmath>
#include <memory>

#include "gan/error.hpp"
#include "gan/loss.hpp"
#include "gan/plugin.hpp"
#include "gan/registry.hpp"
#include "losses.hpp"

namespace {

std::unique_ptr<gan::Loss> make(const gan::LossFactory& f, gan::Params raw = {}) {
  gan::LossContext c;
  c.params = gan::validate_params(f.params, raw);
  return f.create(c);
}

gan::LossInputs logits(std::vector<double> real, std::vector<double> fake) {
  gan::LossInputs in;
  const int64_t nr = static_cast<int64_t>(real.size()), nf = static_cast<int64_t>(fake.size());
  in.real_logits = torch::tensor(real, torch::kDouble).reshape({nr, 1});
  in.fake_logits = torch::tensor(fake, torch::kDouble).reshape({nf, 1});
  return in;
}

double value(const at::Tensor& t) {
  REQUIRE(t.dim() == 0);
  return t.item<double>();
}

}  // namespace

// real logits 2, -1, 0; fake logits 0.5, -2, 3. With softplus(x) = log(1 + e^x):
//   minimax D = (sp(-2) + sp(1) + sp(0)) / 3 + (sp(0.5) + sp(-2) + sp(3)) / 3 = 2.0943097419726540
//   minimax G = (sp(-0.5) + sp(2) + sp(-3)) / 3 = 0.8831974489322739 ; saturating -1.3831974489322736
//   hinge   D = (0 + 2 + 1) / 3 + (1.5 + 0 + 4) / 3 = 2.8333333333333333 ; G = -(0.5 - 2 + 3) / 3 = -0.5
TEST_CASE("minimax: values on known logits", "[losses]") {
  const auto f = gan_losses::minimax_factory();
  CHECK(f.type == "minimax");
  auto loss = make(f);
  const auto in = logits({2, -1, 0}, {0.5, -2, 3});
  CHECK(value(loss->discriminator_loss(in)) == Approx(2.0943097419726540).epsilon(1e-12));
  CHECK(value(loss->generator_loss(in.fake_logits)) == Approx(0.8831974489322739).epsilon(1e-12));
  // [B] logits are accepted as well as [B, 1], and [B, 1, 1, 1] (a conv head, which gan check accepts)
  CHECK(value(loss->generator_loss(in.fake_logits.reshape({-1}))) == Approx(0.8831974489322739).epsilon(1e-12));
  CHECK(value(loss->generator_loss(in.fake_logits.reshape({3, 1, 1, 1}))) ==
        Approx(0.8831974489322739).epsilon(1e-12));

  gan::Params raw;
  raw.set("generator", std::string("saturating"));
  auto saturating = make(f, raw);
  CHECK(value(saturating->discriminator_loss(in)) == Approx(2.0943097419726540).epsilon(1e-12));
  CHECK(value(saturating->generator_loss(in.fake_logits)) == Approx(-1.3831974489322736).epsilon(1e-12));
}

TEST_CASE("minimax: stable and with sensible gradients for large logits", "[losses]") {
  auto loss = make(gan_losses::minimax_factory());
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    // A confident, correct discriminator: loss ~ 0. A confident, wrong one: loss ~ |logit|.
    const at::Tensor real = torch::tensor({200.0, -200.0}, dtype).reshape({2, 1}).requires_grad_(true);
    const at::Tensor fake = torch::tensor({-200.0, 200.0}, dtype).reshape({2, 1}).requires_grad_(true);
    gan::LossInputs in;
    in.real_logits = real;
    in.fake_logits = fake;
    const at::Tensor d = loss->discriminator_loss(in);
    CHECK(value(d) == Approx(200.0).epsilon(1e-6));  // (0 + 200) / 2 + (0 + 200) / 2
    d.backward();
    CHECK(torch::isfinite(real.grad()).all().item<bool>());
    CHECK(real.grad()[1].item<double>() == Approx(-0.5));  // d/dr softplus(-r)/2 at r = -200
    CHECK(fake.grad()[1].item<double>() == Approx(0.5));
    // The non-saturating generator loss keeps a gradient where D rejects the fakes confidently.
    const at::Tensor g_in = torch::tensor({-200.0}, dtype).requires_grad_(true);
    const at::Tensor g = loss->generator_loss(g_in);
    CHECK(value(g) == Approx(200.0).epsilon(1e-6));
    g.backward();
    CHECK(g_in.grad()[0].item<double>() == Approx(-1.0));
  }
}

TEST_CASE("hinge: values on known logits", "[losses]") {
  const auto f = gan_losses::hinge_factory();
  CHECK(f.type == "hinge");
  CHECK(f.params.empty());
  auto loss = make(f);
  const auto in = logits({2, -1, 0}, {0.5, -2, 3});
  CHECK(value(loss->discriminator_loss(in)) == Approx(2.8333333333333333).epsilon(1e-12));
  CHECK(value(loss->generator_loss(in.fake_logits)) == Approx(-0.5).epsilon(1e-12));
  // Beyond the margins the discriminator loss is zero.
  CHECK(value(loss->discriminator_loss(logits({1, 5}, {-1, -3}))) == 0.0);
}

TEST_CASE("loss inputs are checked", "[losses]") {
  auto loss = make(gan_losses::hinge_factory());
  gan::LossInputs in = logits({1, 2}, {3, 4});
  in.real_logits = torch::zeros({2, 3});
  CHECK_THROWS_WITH(loss->discriminator_loss(in), Catch::Contains("real_logits must hold one logit per image"));
  CHECK_THROWS_WITH(loss->generator_loss(at::Tensor()), Catch::Contains("fake_logits is undefined"));
}

TEST_CASE("wgan_gp: gradient penalty of a linear critic equals lambda (||w|| - 1)^2", "[losses]") {
  torch::manual_seed(7);
  // D(x) = <w, flatten(x)> + b: its input gradient is w at every point, so the penalty is exact.
  const at::Tensor w = (torch::randn({2 * 3 * 3}, torch::kDouble) * 0.7).requires_grad_(true);
  const at::Tensor b = torch::tensor({0.3}, torch::kDouble).requires_grad_(true);
  auto critic = [&](const at::Tensor& x) { return torch::matmul(x.reshape({x.size(0), -1}), w) + b; };
  const at::Tensor real = torch::randn({5, 2, 3, 3}, torch::kDouble);
  const at::Tensor fake = torch::randn({5, 2, 3, 3}, torch::kDouble);

  const auto f = gan_losses::wgan_gp_factory();
  CHECK(f.type == "wgan_gp");
  gan::Params raw;
  raw.set("lambda", 4.0);
  auto loss = make(f, raw);
  gan::LossInputs in;
  in.real = real;
  in.fake = fake;
  in.real_logits = critic(real).unsqueeze(1);
  in.fake_logits = critic(fake).unsqueeze(1);
  in.discriminator = critic;

  const double wn = w.detach().norm().item<double>();
  const double expected = (in.fake_logits.mean() - in.real_logits.mean()).item<double>() + 4.0 * (wn - 1) * (wn - 1);
  const at::Tensor d = loss->discriminator_loss(in);
  CHECK(value(d) == Approx(expected).epsilon(1e-10));
  CHECK(value(gan_losses::gradient_penalty(critic, real, fake)) == Approx((wn - 1) * (wn - 1)).epsilon(1e-10));

  // The penalty is differentiable in the critic's parameters (create_graph):
  // d/dw = mean(flat fake) - mean(flat real) + lambda * 2 (||w|| - 1) w / ||w||.
  d.backward();
  const at::Tensor expected_grad = fake.reshape({5, -1}).mean(0) - real.reshape({5, -1}).mean(0) +
                                   4.0 * 2 * (wn - 1) * w.detach() / wn;
  CHECK(torch::allclose(w.grad(), expected_grad, 1e-9, 1e-10));
  CHECK(b.grad().item<double>() == Approx(0.0).margin(1e-12));

  CHECK(value(loss->generator_loss(in.fake_logits)) == Approx(-in.fake_logits.mean().item<double>()));

  // Default lambda is 10; lambda = 0 is the plain WGAN critic loss and needs no discriminator.
  auto def = make(f);
  CHECK(value(def->discriminator_loss(in)) ==
        Approx(expected - 4.0 * (wn - 1) * (wn - 1) + 10.0 * (wn - 1) * (wn - 1)).epsilon(1e-10));
  gan::Params zero;
  zero.set("lambda", 0.0);
  gan::LossInputs plain = in;
  plain.discriminator = nullptr;
  CHECK(value(make(f, zero)->discriminator_loss(plain)) ==
        Approx((in.fake_logits.mean() - in.real_logits.mean()).item<double>()).epsilon(1e-12));
  CHECK_THROWS_AS(def->discriminator_loss(plain), gan::Error);
}

TEST_CASE("wgan_gp: gradient penalty of a quadratic critic at given interpolates", "[losses]") {
  // D(x) = ||x||^2 / 2 has input gradient x, so the penalty is mean (||x^|| - 1)^2.
  auto critic = [](const at::Tensor& x) { return 0.5 * x.reshape({x.size(0), -1}).pow(2).sum(1); };
  const at::Tensor real = torch::tensor({1.0, 0.0, 0.0, 2.0}, torch::kDouble).reshape({2, 2});
  const at::Tensor fake = torch::tensor({0.0, 3.0, 0.0, 0.0}, torch::kDouble).reshape({2, 2});
  const at::Tensor alpha = torch::tensor({0.5, 0.25}, torch::kDouble);
  // x^_0 = (0.5, 1.5), norm sqrt(2.5); x^_1 = (0, 0.5), norm 0.5.
  const double e0 = std::sqrt(2.5) - 1, e1 = 0.5 - 1;
  CHECK(value(gan_losses::gradient_penalty(critic, real, fake, alpha)) == Approx((e0 * e0 + e1 * e1) / 2).epsilon(1e-10));
  CHECK_THROWS_WITH(gan_losses::gradient_penalty(critic, real, fake.reshape({4})),
                    Catch::Contains("must have the same shape"));
}

TEST_CASE("losses: which differentiate the discriminator twice", "[losses][double_backward]") {
  // wgan_gp's penalty back-propagates through grad_x D(x^): D needs double backward, G does not
  // (x^ is built from detached batches); with lambda = 0 there is no penalty.
  const auto gp = gan_losses::wgan_gp_factory();
  REQUIRE(gp.discriminator_double_backward);
  CHECK_FALSE(gp.generator_double_backward);
  gan::Params l10;
  l10.set("lambda", 10.0);
  CHECK(gp.discriminator_double_backward(gan::validate_params(gp.params, l10)) ==
        "its gradient penalty, lambda = 10");
  CHECK(gp.discriminator_double_backward(gan::validate_params(gp.params, {})) ==
        "its gradient penalty, lambda = 10");  // the default
  gan::Params l0;
  l0.set("lambda", 0.0);
  CHECK(gp.discriminator_double_backward(gan::validate_params(gp.params, l0)) == "");
  for (const auto& f : {gan_losses::minimax_factory(), gan_losses::hinge_factory()}) {
    INFO(f.type);
    CHECK_FALSE(f.discriminator_double_backward);
    CHECK_FALSE(f.generator_double_backward);
  }
  // And the penalty really is a second derivative: with a critic whose gradient depends on its
  // weight, the penalty's gradient reaches the weight only through create_graph.
  const at::Tensor w = torch::tensor({0.3, -0.2, 0.5}, torch::kDouble).requires_grad_(true);
  auto critic = [&](const at::Tensor& x) { return (x * w).pow(2).sum(1, true); };
  const at::Tensor real = torch::randn({4, 3}, torch::kDouble), fake = torch::randn({4, 3}, torch::kDouble);
  gan_losses::gradient_penalty(critic, real, fake, torch::full({4}, 0.5, torch::kDouble)).backward();
  REQUIRE(w.grad().defined());
  CHECK(w.grad().abs().sum().item<double>() > 0);
}

TEST_CASE("losses: the registration lines register exactly the plugin's types", "[losses]") {
  // The plugin's sources are linked into this test, so their GAN_REGISTER_* lines are in this
  // executable's registration list, as they are in the plugin library's.
  gan::Registry reg;
  gan::Registrar registrar(reg, "losses", "test");
  for (auto& fn : gan::detail::local_registrations()) fn(registrar);
  CHECK(reg.names(gan::Kind::Loss) == std::vector<std::string>{"hinge", "minimax", "wgan_gp"});
  CHECK(reg.list().size() == 3);
}
