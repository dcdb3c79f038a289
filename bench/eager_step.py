#!/usr/bin/env python3
"""An eager-PyTorch reference for `gan bench MODEL`: the model's training step as a plain PyTorch script.

    /root/.cache/gan/venv/bin/python bench/eager_step.py MODEL.toml [--gan build/bin/gan]
        [--iters 10] [--warmup 2] [--batch B] [--threads 2] [--device cpu] [--json] [--check]
        [--model-json FILE]

The model is not re-declared here: `gan check --json MODEL` (or --model-json, a saved copy of its
output) gives every layer of G and D in execution order with its type, validated parameters
(defaults filled), wrapper, the names of the layers it reads ("z" is G's input, "x" D's), its
per-sample output shape and parameter count. Each layer becomes one nn.Module and each network an
nn.Module that runs the graph (outputs by name, dropped after their last reader, as
framework/src/network.cpp). Any layer type, layer parameter, wrapper, loss, loss parameter or
optimiser this script does not know is an error naming it, never skipped.

Layer types (semantics from plugins/layers/*.cpp, plugins/adaconv, plugins/specnorm):
  linear            nn.Linear               conv2d     nn.Conv2d (padding -1 = (k - 1) // 2)
  conv_transpose2d  nn.ConvTranspose2d      batchnorm  nn.BatchNorm2d / nn.BatchNorm1d ([C,H,W] / [F])
  relu, leaky_relu, tanh, sigmoid, flatten, identity: nn.ReLU, nn.LeakyReLU(slope), ... (not in place)
  upsample   nn.Upsample(nearest)        reshape  x.reshape(B, *shape)
  avg_pool   nn.AvgPool2d(k) (k = 1: the input itself, as gan)   global_sum_pool  x.sum((2, 3))
  add, mul, concat: sum / product of the inputs in order, torch.cat along channels
  adaconv    the composition of adaconv::reference_forward (plugins/adaconv/adaconv_op.cpp) in plain
             torch ops: depthwise Ka x Ka conv, ReLU(1x1 conv) to O*Kf*Kf*C per-pixel kernels,
             zero-padded Kf x Kf shifted copies of x stacked, einsum, plus the bias-branch Ka x Ka
             conv. Whatever its `impl` (gan's fused kernels compute the same function).
  wrap = spectral_norm: torch.nn.utils.parametrizations.spectral_norm on each weight the plugin
             normalises (adaconv: bias_weight, depthwise_weight, pointwise_weight), with the
             model's n_power_iterations and eps, along the output dimension (1 for
             conv_transpose2d's [in, out, k, k] weight, else 0), as gan.
Initialisation as gan's: weights N(0, 0.02) (adaconv: truncated), biases 0, BN (1, 0), then the
[train] init ("paper": truncated normal, init_std; "xavier_uniform"; "default": kept) or a layer's
own `init` on the parameters of 2+ dims, biases zeroed; spectral norm is applied after that (its
vectors start from the weights trained). The random streams differ from gan's.

The step is framework/src/train_step.cpp's: n_dis D steps (real batch; noise; G forward without
grad, or with grad on the last D step when reuse_fake; D on real and on fake in two passes; the
loss; zero_grad, backward, step), then the G step (the kept fake, or new noise and G forward;
generator loss of D(fake) with D's parameters frozen, as gan's FrozenParameters; zero_grad,
backward, step). Adam(lr_g / lr_d, betas_g / betas_d else (beta1, beta2)). Losses as
plugins/losses: minimax (softplus form, non-saturating or saturating G), hinge, wgan_gp (gradient
penalty at per-sample interpolates, create_graph). As `gan bench`: synthetic data (4 fixed
batches uniform in [-1, 1], cycled), noise randn per step, --warmup untimed steps, then the median
of --iters timed steps; no learning-rate schedule, EMA, logging or checkpoints.

--check verifies the translation: per layer, the output shape of a forward (eval mode, no grad)
and the parameter count against gan's, and the networks' totals; exit 1 naming each mismatch.

To compare with gan at the same thread count: OMP_NUM_THREADS=T build/bin/gan bench MODEL versus
this script with --threads T (gan uses LibTorch's default, every core, otherwise).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import warnings

# libgomp busy-waits between parallel regions by default; on a shared machine that spinning
# starves everything else: set before torch loads OpenMP (as bench/dcgan_fmnist.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch without numpy: harmless
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.utils.parametrizations import spectral_norm  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class TranslationError(Exception):
    """The model uses something this script cannot translate, or the translation disagrees with gan."""


# ---------------------------------------------------------------------------------------------
# Layers

class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self):
        return f"shape={list(self.shape)}"


class GlobalSumPool(nn.Module):
    def forward(self, x):
        return x.sum((2, 3))


class Add(nn.Module):
    def forward(self, *xs):
        h = xs[0]
        for x in xs[1:]:
            h = h + x
        return h


class Mul(nn.Module):
    def forward(self, *xs):
        h = xs[0]
        for x in xs[1:]:
            h = h * x
        return h


class Concat(nn.Module):
    def forward(self, *xs):
        return torch.cat(xs, 1)


class AdaConv(nn.Module):
    """AdaConvBlock: adaconv::reference_forward (plugins/adaconv/adaconv_op.cpp) in plain torch ops.

    dw = depthwise_KaxKa(x) + dw_b; kernels = ReLU(1x1 conv of dw to M = O*Kf*Kf*C channels), the
    row of output o, kernel tap k = ky*Kf + kx, input channel i being o*Kf*Kf*C + k*C + i;
    out[o] = sum_{k,i} kernels[o, k, i] * x shifted by tap k (zero padded)[i] + conv_KaxKa(x; b_w) + b_b.
    """

    def __init__(self, c, o, kf, ka):
        super().__init__()
        self.c, self.o, self.kf, self.ka = c, o, kf, ka
        m = o * kf * kf * c
        self.depthwise_weight = nn.Parameter(torch.empty(c, 1, ka, ka))
        self.depthwise_bias = nn.Parameter(torch.zeros(c))
        self.pointwise_weight = nn.Parameter(torch.empty(m, c))
        self.pointwise_bias = nn.Parameter(torch.zeros(m))
        self.bias_weight = nn.Parameter(torch.empty(o, c, ka, ka))
        self.bias_bias = nn.Parameter(torch.zeros(o))
        with torch.no_grad():  # adaconv::init_weights: truncated normal, std 0.02, cut at +-2 std
            for w in (self.depthwise_weight, self.pointwise_weight, self.bias_weight):
                nn.init.trunc_normal_(w, 0.0, 0.02, -0.04, 0.04)

    def forward(self, x):
        b, c, h, w = x.shape
        kf, r, p = self.kf, self.kf // 2, self.ka // 2
        dw = F.conv2d(x, self.depthwise_weight, self.depthwise_bias, padding=p, groups=c)
        kernels = F.relu(F.conv2d(dw, self.pointwise_weight.view(-1, c, 1, 1), self.pointwise_bias))
        xp = F.pad(x, (r, r, r, r))
        patches = torch.stack([xp[:, :, ky:ky + h, kx:kx + w] for ky in range(kf) for kx in range(kf)], 1)
        local = torch.einsum("bokihw,bkihw->bohw", kernels.view(b, self.o, kf * kf, c, h, w), patches)
        return local + F.conv2d(x, self.bias_weight, self.bias_bias, padding=p)

    def extra_repr(self):
        return f"{self.c}, {self.o}, kernel_size={self.kf}, adaptive_kernel_size={self.ka}"


def _image(ins, t):
    if len(ins[0]) != 3:
        raise TranslationError(f"{t} needs a [C, H, W] input, got {ins[0]}")
    return ins[0]


def _conv_padding(cfg):
    return cfg["padding"] if cfg["padding"] >= 0 else (cfg["kernel_size"] - 1) // 2


def _batchnorm(cfg, ins):
    bn = {3: nn.BatchNorm2d, 1: nn.BatchNorm1d}.get(len(ins[0]))
    if bn is None:
        raise TranslationError(f"batchnorm needs [C, H, W] or [F], got {ins[0]}")
    return bn(ins[0][0], eps=cfg["eps"], momentum=cfg["momentum"], affine=cfg["affine"])


def _upsample(cfg, ins):
    if cfg["mode"] != "nearest":
        raise TranslationError(f"upsample mode '{cfg['mode']}' is not translated (only 'nearest')")
    _image(ins, "upsample")
    return nn.Upsample(scale_factor=cfg["scale_factor"], mode="nearest")


def _linear(cfg, ins):
    if len(ins[0]) != 1:
        raise TranslationError(f"linear needs a flat input, got {ins[0]}")
    return nn.Linear(ins[0][0], cfg["out_features"], bias=cfg["bias"])


def _conv2d(cfg, ins):
    c = _image(ins, "conv2d")[0]
    return nn.Conv2d(c, cfg["out_channels"], cfg["kernel_size"], stride=cfg["stride"], padding=_conv_padding(cfg),
                     bias=cfg["bias"])


def _conv_transpose2d(cfg, ins):
    c = _image(ins, "conv_transpose2d")[0]
    return nn.ConvTranspose2d(c, cfg["out_channels"], cfg["kernel_size"], stride=cfg["stride"],
                              padding=cfg["padding"], output_padding=cfg["output_padding"], bias=cfg["bias"])


def _adaconv(cfg, ins):
    c = _image(ins, "adaconv")[0]
    return AdaConv(c, cfg["out_channels"], cfg["kernel_size"], cfg["adaptive_kernel_size"])


def _avg_pool(cfg, ins):
    _image(ins, "avg_pool")
    k = cfg["kernel_size"]
    return nn.Identity() if k == 1 else nn.AvgPool2d(k)


# type -> (builder(config, input_shapes) -> module, accepted config keys, weights spectral_norm normalises).
# in_channels / in_features are checks of the input that gan has already made; adaconv's impl picks
# one of gan's implementations of the same function.
LAYERS = {
    "linear": (_linear, {"out_features", "in_features", "bias"}, ["weight"]),
    "conv2d": (_conv2d, {"out_channels", "kernel_size", "stride", "padding", "in_channels", "bias"}, ["weight"]),
    "conv_transpose2d": (_conv_transpose2d, {"out_channels", "kernel_size", "stride", "padding", "output_padding",
                                             "in_channels", "bias"}, ["weight"]),
    "batchnorm": (_batchnorm, {"momentum", "eps", "affine"}, []),
    "adaconv": (_adaconv, {"out_channels", "kernel_size", "adaptive_kernel_size", "impl"},
                ["bias_weight", "depthwise_weight", "pointwise_weight"]),
    "relu": (lambda cfg, ins: nn.ReLU(), set(), []),
    "leaky_relu": (lambda cfg, ins: nn.LeakyReLU(cfg["negative_slope"]), {"negative_slope"}, []),
    "tanh": (lambda cfg, ins: nn.Tanh(), set(), []),
    "sigmoid": (lambda cfg, ins: nn.Sigmoid(), set(), []),
    "upsample": (_upsample, {"scale_factor", "mode"}, []),
    "reshape": (lambda cfg, ins: Reshape(cfg["shape"]), {"shape"}, []),
    "flatten": (lambda cfg, ins: nn.Flatten(1), set(), []),
    "identity": (lambda cfg, ins: nn.Identity(), set(), []),
    "avg_pool": (_avg_pool, {"kernel_size"}, []),
    "global_sum_pool": (lambda cfg, ins: GlobalSumPool(), set(), []),
    "add": (lambda cfg, ins: Add(), set(), []),
    "mul": (lambda cfg, ins: Mul(), set(), []),
    "concat": (lambda cfg, ins: Concat(), set(), []),
}
MULTI_INPUT = {"add", "mul", "concat"}


def gan_defaults(module):
    """The weights as gan's layers construct them: N(0, 0.02) weights, zero biases (BN: ones, zeros)."""
    with torch.no_grad():
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            module.weight.normal_(0.0, 0.02)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.affine:
            module.weight.fill_(1.0)
            module.bias.zero_()


def gan_init(module, mode, std, gen):
    """init_module of framework/src/network.cpp: parameters of 2+ dims redrawn, 1-dim '*bias' zeroed."""
    if mode == "default":
        return
    if mode not in ("paper", "xavier_uniform"):
        raise TranslationError(f"unknown init '{mode}'")
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                if mode == "paper":
                    nn.init.trunc_normal_(p, 0.0, std, -2 * std, 2 * std, generator=gen)
                else:
                    nn.init.xavier_uniform_(p, generator=gen)
            elif p.dim() == 1 and name.endswith("bias"):
                p.zero_()


def build_layer(spec, net_name, init_mode, init_std, gen):
    where = f"{net_name} layer '{spec['name']}' ({spec['type']})"
    t = spec["type"]
    if t not in LAYERS:
        raise TranslationError(f"{where}: unknown layer type '{t}' (this script translates: "
                               f"{', '.join(sorted(LAYERS))})")
    make, keys, sn_weights = LAYERS[t]
    cfg = spec.get("config") or {}
    extra = sorted(set(cfg) - keys)
    if extra:
        raise TranslationError(f"{where}: parameter(s) {', '.join(extra)} not translated for type '{t}'")
    ins = spec.get("input_shapes") or [spec["input_shape"]]
    if t not in MULTI_INPUT and len(ins) != 1:
        raise TranslationError(f"{where}: {len(ins)} inputs for a single-input layer type")
    try:
        module = make(cfg, ins)
    except TranslationError as e:
        raise TranslationError(f"{where}: {e}") from None
    except KeyError as e:
        raise TranslationError(f"{where}: gan's config has no {e} (not a validated config?)") from None
    gan_defaults(module)
    gan_init(module, spec.get("init") or init_mode, init_std, gen)
    wrap = spec.get("wrap")
    if wrap:
        if wrap != "spectral_norm":
            raise TranslationError(f"{where}: unknown wrapper '{wrap}' (this script translates: spectral_norm)")
        wcfg = spec.get("wrap_config") or {}
        extra = sorted(set(wcfg) - {"n_power_iterations", "eps"})
        if extra:
            raise TranslationError(f"{where}: spectral_norm parameter(s) {', '.join(extra)} not translated")
        if not sn_weights:
            raise TranslationError(f"{where}: spectral_norm on a layer type without a weight")
        for w in sn_weights:  # the u, v warm-up: 15 power iterations (gan: 15, then until converged)
            spectral_norm(module, name=w, n_power_iterations=int(wcfg.get("n_power_iterations", 1)),
                          eps=float(wcfg.get("eps", 1e-12)),
                          dim=1 if spec["type"] == "conv_transpose2d" else 0)
    return module


class GraphNet(nn.Module):
    """A network of gan's layer graph: each layer reads named outputs ('z' / 'x' is the network input)."""

    def __init__(self, report, net_name, input_name, init_mode, init_std, gen):
        super().__init__()
        self.net_name = net_name
        self.specs = report["layers"]
        if not self.specs:
            raise TranslationError(f"{net_name}: no layers")
        self.mods, self.ins = [], []
        index = {}
        for i, spec in enumerate(self.specs):
            module = build_layer(spec, net_name, init_mode, init_std, gen)
            self._register(spec["name"], module)
            src = []
            for name in spec.get("inputs") or []:
                if name in index:
                    src.append(index[name])
                elif name == input_name:
                    src.append(-1)
                else:
                    raise TranslationError(f"{net_name} layer '{spec['name']}': input '{name}' is neither an "
                                           f"earlier layer nor '{input_name}'")
            if not src:  # network.cpp: no inputs = the previous layer's output (the input for the first)
                src = [i - 1]
            if spec["type"] not in MULTI_INPUT and len(src) != 1:
                raise TranslationError(f"{net_name} layer '{spec['name']}' ({spec['type']}): {len(src)} inputs")
            index[spec["name"]] = i
            self.mods.append(module)
            self.ins.append(src)
        last_use = {}
        for i, src in enumerate(self.ins):
            for j in src:
                last_use[j] = i
        self.drop = [[j for j in src if j >= 0 and last_use[j] == i] for i, src in enumerate(self.ins)]

    def _register(self, name, module):
        """'block1.conv1' as submodule conv1 of a container block1, as gan names its parameters."""
        parent = self
        parts = name.split(".")
        for p in parts[:-1]:
            child = parent._modules.get(p)
            if child is None:
                child = nn.Module()
                parent.add_module(p, child)
            parent = child
        if parts[-1] in parent._modules:
            raise TranslationError(f"{self.net_name}: layer name '{name}' is used twice")
        parent.add_module(parts[-1], module)

    def forward(self, x, shapes=None):
        outs = {-1: x}
        h = x
        for i, (module, src, drop) in enumerate(zip(self.mods, self.ins, self.drop)):
            h = module(*[outs[j] for j in src])
            outs[i] = h
            if shapes is not None:
                shapes.append(list(h.shape[1:]))
            for j in drop:  # outputs no later layer reads (autograd keeps what backward needs)
                del outs[j]
        return h


# ---------------------------------------------------------------------------------------------
# Losses (plugins/losses)

def logits(t, what, loss):
    """checked_logits of plugins/losses/losses.hpp: [B] or [B, 1] -> [B]."""
    if not (t.dim() == 1 or (t.dim() == 2 and t.shape[1] == 1)):
        raise TranslationError(f"{loss}: {what} must be [B] or [B, 1], got {list(t.shape)}")
    return t.reshape(-1)


class Minimax:
    def __init__(self, cfg):
        self.non_saturating = cfg.get("generator", "non_saturating") == "non_saturating"

    def d_loss(self, real_logits, fake_logits, real, fake, D):
        r, f = logits(real_logits, "real_logits", "minimax"), logits(fake_logits, "fake_logits", "minimax")
        return F.softplus(-r).mean() + F.softplus(f).mean()

    def g_loss(self, fake_logits):
        f = logits(fake_logits, "fake_logits", "minimax")
        return F.softplus(-f).mean() if self.non_saturating else -F.softplus(f).mean()


class Hinge:
    def __init__(self, cfg):
        pass

    def d_loss(self, real_logits, fake_logits, real, fake, D):
        r, f = logits(real_logits, "real_logits", "hinge"), logits(fake_logits, "fake_logits", "hinge")
        return F.relu(1 - r).mean() + F.relu(1 + f).mean()

    def g_loss(self, fake_logits):
        return -logits(fake_logits, "fake_logits", "hinge").mean()


class WganGp:
    def __init__(self, cfg):
        self.lam = float(cfg.get("lambda", 10.0))

    def d_loss(self, real_logits, fake_logits, real, fake, D):
        r, f = logits(real_logits, "real_logits", "wgan_gp"), logits(fake_logits, "fake_logits", "wgan_gp")
        loss = f.mean() - r.mean()
        if self.lam > 0:
            b = real.shape[0]
            alpha = torch.rand(b, device=real.device).view(b, *([1] * (real.dim() - 1)))
            x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
            norm = (grad.reshape(b, -1).pow(2).sum(1) + 1e-12).sqrt()
            loss = loss + self.lam * (norm - 1).pow(2).mean()
        return loss

    def g_loss(self, fake_logits):
        return -logits(fake_logits, "fake_logits", "wgan_gp").mean()


LOSSES = {"minimax": (Minimax, {"generator"}), "hinge": (Hinge, set()), "wgan_gp": (WganGp, {"lambda"})}


def make_loss(rep):
    t = rep["loss"]
    if t not in LOSSES:
        raise TranslationError(f"unknown loss type '{t}' (this script translates: {', '.join(sorted(LOSSES))})")
    cls, keys = LOSSES[t]
    cfg = rep.get("loss_config") or {}
    extra = sorted(set(cfg) - keys)
    if extra:
        raise TranslationError(f"loss '{t}': parameter(s) {', '.join(extra)} not translated")
    if t == "minimax" and cfg.get("generator", "non_saturating") not in ("non_saturating", "saturating"):
        raise TranslationError(f"loss 'minimax': unknown generator objective '{cfg['generator']}'")
    return cls(cfg)


# ---------------------------------------------------------------------------------------------
# The training step (framework/src/train_step.cpp)

def adam(net, train, lr_key, betas_key):
    b1, b2 = train["beta1"], train["beta2"]
    if train.get(betas_key) is not None:
        b1, b2 = train[betas_key]
    return torch.optim.Adam(net.parameters(), lr=float(train[lr_key]), betas=(float(b1), float(b2)))


def train_step(G, D, loss, opt_g, opt_d, n_dis, batch, latent, reuse_fake, next_real, device):
    fake_for_g = None
    for k in range(n_dis):
        real = next_real()
        z = torch.randn(real.shape[0], latent, device=device)
        if reuse_fake and k + 1 == n_dis:
            fake_for_g = G(z)
            fake = fake_for_g.detach()
        else:
            with torch.no_grad():
                fake = G(z)
        d_loss = loss.d_loss(D(real), D(fake), real, fake, D)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
    if reuse_fake:
        fake = fake_for_g
    else:
        fake = G(torch.randn(batch, latent, device=device))
    D.requires_grad_(False)  # D's weight gradients are not needed for G's step (train_step.cpp)
    try:
        g_loss = loss.g_loss(D(fake))
        opt_g.zero_grad()
        g_loss.backward()
    finally:
        D.requires_grad_(True)
    opt_g.step()
    return d_loss, g_loss


# ---------------------------------------------------------------------------------------------

def gan_report(args):
    if args.model_json:
        with open(args.model_json) as f:
            return json.load(f)
    cmd = [args.gan, "check", "--json", args.model]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise SystemExit(f"eager_step.py: cannot run {args.gan}: {e} (give --gan PATH or --model-json FILE)")
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"eager_step.py: `{' '.join(cmd)}` failed (exit {p.returncode})")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise SystemExit(f"eager_step.py: `{' '.join(cmd)}` printed no JSON: {e}")


def check_translation(rep, G, D, batch, device):
    """Per layer: output shape (a forward in eval mode, no grad) and parameter count against gan's."""
    errors = []
    C, H, W = rep["image_shape"]
    for net, report, x in ((G, rep["generator"], torch.randn(batch, rep["latent_dim"], device=device)),
                           (D, rep["discriminator"], torch.rand(batch, C, H, W, device=device) * 2 - 1)):
        shapes = []
        was = net.training
        net.eval()
        try:
            with torch.no_grad():
                out = net(x, shapes)
        finally:
            net.train(was)
        for spec, module, shape in zip(report["layers"], net.mods, shapes):
            where = f"{net.net_name} layer '{spec['name']}' ({spec['type']})"
            if shape != list(spec["output_shape"]):
                errors.append(f"{where}: output shape {shape}, gan's {spec['output_shape']}")
            n = sum(p.numel() for p in module.parameters())
            if n != spec["params"]:
                errors.append(f"{where}: {n} parameters, gan's {spec['params']}")
        n = sum(p.numel() for p in net.parameters())
        if n != report["total_params"]:
            errors.append(f"{net.net_name}: {n} parameters in all, gan's {report['total_params']}")
        if list(out.shape[1:]) != list(report["output_shape"]):
            errors.append(f"{net.net_name}: output {list(out.shape[1:])}, gan's {report['output_shape']}")
    if list(rep["generator"]["output_shape"]) != [C, H, W]:
        errors.append(f"generator output {rep['generator']['output_shape']} is not the image {[C, H, W]}")
    if errors:
        raise TranslationError("check failed:\n  " + "\n  ".join(errors))
    return len(G.mods), len(D.mods)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="model file (.toml)")
    ap.add_argument("--gan", default=os.path.join(ROOT, "build", "bin", "gan"), help="the gan executable")
    ap.add_argument("--model-json", default="", help="a saved `gan check --json MODEL` instead of running gan")
    ap.add_argument("--iters", type=int, default=10, help="timed iterations (the median is reported)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    ap.add_argument("--batch", type=int, default=0, help="batch size (default: the model's [train] batch_size)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--check", action="store_true", help="verify each layer's output shape and parameter count")
    args = ap.parse_args()
    if args.iters < 1 or args.warmup < 0:
        ap.error("--iters must be >= 1 and --warmup >= 0")

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rep = gan_report(args)
    train = rep["train"]
    try:
        if train.get("optimizer", "adam") != "adam":
            raise TranslationError(f"unknown optimizer '{train['optimizer']}' (this script translates: adam)")
        batch = args.batch if args.batch > 0 else int(train["batch_size"])
        n_dis, reuse_fake, latent = int(train["n_dis"]), bool(train["reuse_fake"]), int(rep["latent_dim"])
        seed = int(train["seed"])
        torch.manual_seed(seed)
        init, std = train.get("init", "paper"), float(train.get("init_std", 0.02))
        G = GraphNet(rep["generator"], "generator", "z", init, std, torch.Generator().manual_seed(seed * 2 + 1))
        D = GraphNet(rep["discriminator"], "discriminator", "x", init, std,
                     torch.Generator().manual_seed(seed * 2 + 2))
        G.to(device).train()
        D.to(device).train()
        loss = make_loss(rep)
        checked = None
        if args.check:
            checked = check_translation(rep, G, D, batch, device)
        opt_g = adam(G, train, "lr_g", "betas_g")
        opt_d = adam(D, train, "lr_d", "betas_d")

        C, H, W = rep["image_shape"]
        batches = [torch.rand(batch, C, H, W).mul_(2).sub_(1).to(device) for _ in range(4)]
        counter = [0]

        def next_real():
            counter[0] += 1
            return batches[(counter[0] - 1) % len(batches)]

        def sync():
            if device.type == "cuda":
                torch.cuda.synchronize()

        def step():
            return train_step(G, D, loss, opt_g, opt_d, n_dis, batch, latent, reuse_fake, next_real, device)

        for _ in range(args.warmup):
            step()
        sync()
        times = []
        for _ in range(args.iters):
            t0 = time.perf_counter()
            d_loss, g_loss = step()
            sync()
            times.append(time.perf_counter() - t0)
    except TranslationError as e:
        raise SystemExit(f"eager_step.py: {args.model}: {e}")
    times.sort()
    sps = times[len(times) // 2]  # the median as gan bench takes it (times[n / 2] of the sorted times)
    dl, gl = d_loss.item(), g_loss.item()
    g_params = sum(p.numel() for p in G.parameters())
    d_params = sum(p.numel() for p in D.parameters())
    rec = {
        "model": args.model, "batch_size": batch, "threads": torch.get_num_threads(), "device": str(device),
        "n_dis": n_dis, "reuse_fake": reuse_fake, "iterations": args.iters, "warmup": args.warmup,
        "seconds_per_step": sps, "it_per_s": 1.0 / sps, "mean_seconds_per_step": statistics.fmean(times),
        "g_params": g_params, "d_params": d_params, "d_loss": dl, "g_loss": gl,
        "checked": checked is not None, "torch": torch.__version__,
    }
    if args.json:
        print(json.dumps(rec))
    else:
        if checked is not None:
            print(f"check: {checked[0]} generator and {checked[1]} discriminator layers: output shapes and "
                  f"parameter counts equal gan's (G {g_params}, D {d_params} parameters)")
        print(f"{rep.get('name', args.model)} ({args.model}), eager PyTorch {torch.__version__}: batch {batch}, "
              f"n_dis {n_dis}{', reuse_fake' if reuse_fake else ''}, {rec['threads']} threads, {device}; "
              f"{args.warmup} warm-up + {args.iters} timed iterations")
        print(f"  {sps:.4f} s per step (median), {1.0 / sps:.3f} it/s; last D loss {dl:.4f}, G loss {gl:.4f}")
    if not (math.isfinite(dl) and math.isfinite(gl)):
        print(f"eager_step.py: warning: the losses are not finite (D {dl}, G {gl})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
