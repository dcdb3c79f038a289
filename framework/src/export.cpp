// gan export: a run's generator as TorchScript (see gan/export.hpp).
#include "gan/export.hpp"

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "gan/error.hpp"
#include "gan/fs_util.hpp"
#include "gan/provenance.hpp"
#include "gan/trainer.hpp"
#include "gan/version.hpp"

namespace gan {
namespace {

namespace fs = std::filesystem;
using torch::jit::Module;

constexpr const char* kMetaFile = "gan.json";  // stored as <archive>/extra/gan.json

// A TorchScript module holding the same tensors as `m` (not copies: the tracer maps each tensor
// the generator's forward reads to an attribute access on the module), submodules as submodules,
// so the exported state_dict keys are gan's ("up1.weight", "block2.conv1.weight").
Module mirror(const torch::nn::Module& m, const std::string& cls, const std::shared_ptr<torch::jit::CompilationUnit>& cu,
              int64_t& parameters) {
  Module out(c10::QualifiedName("__torch__.gan." + cls), cu, /*shouldMangle=*/true);
  for (const auto& p : m.named_parameters(/*recurse=*/false)) {
    if (!p.value().defined()) continue;
    out.register_parameter(p.key(), p.value(), /*is_buffer=*/false);
    parameters += p.value().numel();
  }
  for (const auto& b : m.named_buffers(/*recurse=*/false))
    if (b.value().defined()) out.register_buffer(b.key(), b.value());
  for (const auto& c : m.named_children()) out.register_module(c.key(), mirror(*c.value(), "Layer", cu, parameters));
  return out;
}

uint32_t le(const std::string& b, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}

// Whether `bytes` is a zip archive whose central directory lists a member ending in `suffix`.
bool zip_lists(const std::string& bytes, const std::string& suffix) {
  if (bytes.size() < 22) return false;
  // the end-of-central-directory record: within the last 64 KiB + 22 bytes (its comment)
  const size_t lowest = bytes.size() > 65557 ? bytes.size() - 65557 : 0;
  for (size_t e = bytes.size() - 22 + 1; e-- > lowest;) {
    if (le(bytes, e, 4) != 0x06054b50u) continue;
    const uint32_t count = le(bytes, e + 10, 2), offset = le(bytes, e + 16, 4);
    size_t at = offset;
    for (uint32_t i = 0; i < count && at + 46 <= bytes.size() && le(bytes, at, 4) == 0x02014b50u; ++i) {
      const size_t name_len = le(bytes, at + 28, 2), extra = le(bytes, at + 30, 2), comment = le(bytes, at + 32, 2);
      if (at + 46 + name_len > bytes.size()) return false;
      const std::string name = bytes.substr(at + 46, name_len);
      if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        return true;
      at += 46 + name_len + extra + comment;
    }
    return false;
  }
  return false;
}

// An existing file is replaced only when it is an earlier export (its archive lists extra/gan.json).
void check_replaceable(const std::string& out) {
  std::error_code ec;
  const fs::path p(out);
  if (!fs::exists(fs::symlink_status(p, ec))) {
    const fs::path parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (!fs::is_directory(parent, ec)) {
      throw Error(out + ": --out: the folder " + parent.string() + " does not exist; create it first");
    }
    return;
  }
  if (!fs::is_regular_file(p, ec)) throw Error(out + ": --out: exists and is not a file; give a file name");
  const std::string bytes = read_file(out);
  if (!zip_lists(bytes, std::string("/extra/") + kMetaFile)) {
    throw Error(out + ": exists and is not a generator gan exported, so it was left alone: remove it yourself or "
                "give another --out");
  }
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

}  // namespace

std::string generator_torchscript(NetworkImpl& G, int64_t latent_dim, Json meta, const ExportOptions& opt,
                                  const std::string& what, ExportResult& r) {
  G.eval();
  G.to(torch::kCPU);
  torch::NoGradGuard no_grad;
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  r.parameters = 0;
  Module root = mirror(G, "Generator", cu, r.parameters);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20261203);
  const torch::Tensor z = torch::randn({opt.trace_batch, latent_dim}, gen, torch::kFloat32);
  std::shared_ptr<torch::jit::Graph> graph;
  try {
    auto traced = torch::jit::tracer::trace(
        {z}, [&G](torch::jit::Stack in) -> torch::jit::Stack { return {G.forward(in.at(0).toTensor())}; },
        [](const torch::autograd::Variable&) { return std::string(); }, /*strict=*/true, /*force_outplace=*/false,
        &root, {"z"});
    graph = traced.first->graph;
  } catch (const c10::Error& e) {
    throw Error(what + ": the generator cannot be traced to TorchScript: " + std::string(e.what_without_backtrace()));
  }
  root.type()->addMethod(cu->create_function(c10::QualifiedName(*root.type()->name(), "forward"), graph));

  // what Python reads off the module without gan
  const torch::Tensor check_z = torch::randn({opt.check_batch, latent_dim}, gen, torch::kFloat32);
  const torch::Tensor expected = G.forward(check_z);
  r.latent_dim = latent_dim;
  r.image_shape.assign(expected.sizes().begin() + 1, expected.sizes().end());
  root.register_attribute("latent_dim", c10::IntType::get(), latent_dim);
  root.register_attribute("output_range", c10::TupleType::create({c10::FloatType::get(), c10::FloatType::get()}),
                          c10::ivalue::Tuple::create(-1.0, 1.0));
  root.register_attribute("image_shape", c10::ListType::ofInts(), c10::List<int64_t>(r.image_shape));
  meta["format"] = "gan generator export";
  meta["format_version"] = 1;
  meta["latent_dim"] = latent_dim;
  Json shape = Json::array();
  for (int64_t d : r.image_shape) shape.push_back(d);
  meta["image_shape"] = shape;
  Json range = Json::array();
  range.push_back(-1.0);
  range.push_back(1.0);
  meta["output_range"] = range;
  meta["parameters"] = r.parameters;
  meta["usage"] = "G = torch.jit.load(path); images = G(torch.randn(n, G.latent_dim))  # [n, C, H, W] in [-1, 1]";
  meta["provenance"] = provenance("cpu");
  r.meta = meta;

  // the file as written must reproduce gan's generator on a batch it was not traced on
  std::ostringstream bytes;
  try {
    root.save(bytes, {{kMetaFile, meta.dump(2)}});
    std::istringstream in(bytes.str());
    Module loaded = torch::jit::load(in, torch::kCPU);
    const torch::Tensor got = loaded.forward({check_z}).toTensor();
    if (got.sizes() != expected.sizes()) {
      throw Error(what + ": the traced generator returns " + shape_text(got.sizes().vec()) + " for a batch of " +
                  std::to_string(opt.check_batch) + ", gan's " + shape_text(expected.sizes().vec()) +
                  ": a layer's forward depends on the batch size it was traced with; nothing was written");
    }
    r.max_abs_diff = (got - expected).abs().max().item<double>();
  } catch (const c10::Error& e) {
    throw Error(what + ": the traced generator does not run: " + std::string(e.what_without_backtrace()) +
                "; nothing was written");
  }
  if (!(r.max_abs_diff <= opt.tolerance)) {
    throw Error(what + ": the traced generator differs from gan's by " + std::to_string(r.max_abs_diff) +
                " (max |difference| on a fresh batch of " + std::to_string(opt.check_batch) + ", allowed " +
                std::to_string(opt.tolerance) + "): a layer computes outside ATen operators while tracing, or "
                "depends on the batch; nothing was written");
  }
  return bytes.str();
}

ExportResult export_generator(const std::string& run_or_checkpoint, const std::string& out, const ExportOptions& opt) {
  if (out.empty()) throw Error("export: --out FILE.pt is required");
  check_replaceable(out);
  LoadedGenerator lg = load_generator(run_or_checkpoint, "cpu", opt.checkpoint, opt.generator);
  ExportResult r;
  r.path = out;
  r.checkpoint = lg.checkpoint;
  r.iteration = lg.iteration;
  r.ema = lg.ema;
  Json meta = Json::object();
  meta["checkpoint"] = lg.checkpoint;
  meta["iteration"] = lg.iteration;
  meta["generator"] = lg.ema ? "ema" : "raw";
  const std::string bytes = generator_torchscript(*lg.G, lg.latent_dim, meta, opt, lg.checkpoint, r);
  write_file_atomic(out, bytes);
  return r;
}

}  // namespace gan
