// The model language: parsing, extends/override, validation and shape inference (gan/model.hpp).
#include "gan/model.hpp"

#include "gan/fs_util.hpp"
#include "gan/path_limits.hpp"
#include "gan/checked.hpp"
#include "gan/compat.hpp"
#include "model_graph.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace fs = std::filesystem;

namespace gan {

// ---------------------------------------------------------------------------------------------
// framework sections
// ---------------------------------------------------------------------------------------------
const std::vector<ParamSpec>& train_param_specs() {
  static const std::vector<ParamSpec> specs = {
      ParamSpec::integer("iterations", "generator updates to train for", 20000).range(1, 1e9),
      ParamSpec::integer("batch_size", "images per batch, for D and G steps", 64).range(1, 65536),
      ParamSpec::integer("n_dis", "discriminator updates per generator update", 1).range(1, 100),
      ParamSpec::boolean("reuse_fake", "the generator step reuses the discriminator step's fake batch G(z) "
                                       "instead of running G on new noise (one G forward per iteration, as the "
                                       "PyTorch DCGAN example; the last of n_dis D steps' batch)", false),
      ParamSpec::string("amp", "mixed precision of the training step: 'none' (float32), or 'bf16' = G's and D's "
                               "forward passes under autocast to bfloat16 (matrix products and convolutions in "
                               "bf16, accumulated in float32), float32 master weights, optimiser state and "
                               "losses; no loss scaling is needed (bf16 has float32's range). For Ampere/Hopper "
                               "GPUs; on a CPU without bf16 units it is slower", "none")
          .one_of({"none", "bf16"}),
      ParamSpec::string("optimizer", "optimiser for both networks", "adam").one_of({"adam"}),
      ParamSpec::real("lr_g", "generator learning rate", 2e-4).range(0, 1),
      ParamSpec::real("lr_d", "discriminator learning rate", 2e-4).range(0, 1),
      ParamSpec::real("beta1", "Adam beta1", 0.5).range(0, 0.999999),
      ParamSpec::real("beta2", "Adam beta2", 0.999).range(0, 0.999999),
      ParamSpec::reals("betas_g", "the generator's Adam [beta1, beta2] (default: beta1, beta2)").range(0, 0.999999),
      ParamSpec::reals("betas_d", "the discriminator's Adam [beta1, beta2] (default: beta1, beta2)").range(0, 0.999999),
      ParamSpec::string("lr_schedule", "learning-rate schedule of both networks: 'constant', or 'linear' decay to "
                                       "zero at [train] iterations (SNGAN, BigGAN)", "constant")
          .one_of({"constant", "linear"}),
      ParamSpec::integer("warmup", "iterations of linear learning-rate warm-up from 0 (0 = none)", 0).range(0, 1e9),
      ParamSpec::integer("seed", "seed of every random stream (init, noise, data order)", 0).range(0, 9.2e18),
      ParamSpec::string("init", "weight init: 'paper' = truncated normal (std init_std, clamped at 2 std) for "
                                "every weight, zero biases; 'xavier_uniform' = Glorot uniform weights, zero biases; "
                                "'default' = each layer's own; a layer's own `init` overrides it", "paper")
          .one_of({"paper", "default", "xavier_uniform"}),
      ParamSpec::real("init_std", "std of the 'paper' init", 0.02).range(0, 10),
      ParamSpec::real("ema", "decay of the generator's exponential moving average (0 = off)", 0.0).range(0, 0.999999),
      ParamSpec::integer("ema_start", "iterations before the average starts: until then it is a copy of the "
                                      "generator (an average over the untrained start is blank)", 0).range(0, 1e9),
      ParamSpec::integer("log_every", "iterations between log lines / JSONL records", 50).range(1, 1e9),
      ParamSpec::integer("sample_every", "iterations between sample grids (0 = only at the end)", 500).range(0, 1e9),
      ParamSpec::integer("checkpoint_every", "iterations between checkpoints (0 = only at the end)", 1000).range(0, 1e9),
      ParamSpec::integer("keep_checkpoints", "numbered 'latest' checkpoints kept in the run folder (the newest "
                                             "that verifies is resumed from)", 2).range(1, 1000),
      ParamSpec::integer("eval_every", "iterations between evaluations (0 = off)", 0).range(0, 1e9),
      ParamSpec::string("keep_best", "metric whose best value keeps a 'best' checkpoint (e.g. \"is\", \"fid\"); "
                                     "needs eval_every", ""),
      ParamSpec::string("device", "cpu, cuda or auto (cuda when available)", "auto").one_of({"auto", "cpu", "cuda"}),
      ParamSpec::boolean("sync_batchnorm", "data-parallel training (docs/distributed.md): batchnorm layers normalise "
                                           "by the statistics of the whole batch over all ranks (two small "
                                           "all-reduces per layer and forward pass), as one process would; false: "
                                           "each rank by its own share's", false),
      ParamSpec::real("dist_timeout", "data-parallel training: seconds a rank waits for the others in a collective "
                                      "(and at the rendezvous) before it stops with a message naming the rank that "
                                      "is missing; --dist-timeout overrides it", 300).range(1, 86400),
      ParamSpec::boolean("tensorboard", "write TensorBoard event files into RUN/tensorboard/ (losses, D(x), "
                                        "D(G(z)), learning rates, it/s, metrics, sample grids): tensorboard "
                                        "--logdir RUN", true),
  };
  return specs;
}

const std::vector<ParamSpec>& eval_param_specs() {
  static const std::vector<ParamSpec> specs = {
      ParamSpec::strings("metrics", "metric types to compute", {"is", "fid", "kid"}),
      ParamSpec::integer("n_samples", "generated images per evaluation", 10000).range(10, 1e8),
      ParamSpec::integer("real_samples", "real images for metrics that need them (FID, KID)", 10000).range(10, 1e8),
      ParamSpec::integer("batch_size", "batch size for generation and feature extraction", 250).range(1, 65536),
      ParamSpec::string("feature_net", "TorchScript feature network (a relative path is taken from the "
                                       "folder of the model file that sets it), needed by evaluation; "
                                       "see docs/feature-networks.md", "").file_path(),
      ParamSpec::string("real_split", "split of the data set used as real images", "test"),
      ParamSpec::integer("seed", "seed of the evaluation noise", 1234).range(0, 9.2e18),
  };
  return specs;
}

const std::vector<ParamSpec>& data_param_specs() {
  static const std::vector<ParamSpec> specs = {
      ParamSpec::string("type", "dataset type (see `gan plugins`)").required(),
      ParamSpec::integer("channels", "image channels the model works with").required().range(1, 4),
      ParamSpec::integer("size", "image height and width the model works with").required().range(1, 4096),
  };
  return specs;
}

const std::vector<ParamSpec>& model_param_specs() {
  static const std::vector<ParamSpec> specs = {
      ParamSpec::string("name", "variant name used in reports", ""),
      ParamSpec::string("description", "one line for reports", ""),
  };
  return specs;
}

std::string ModelSpec::name() const {
  if (model.raw.has("name")) {
    if (auto p = std::get_if<std::string>(&model.raw.values().at("name")); p && !p->empty()) return *p;
  }
  return fs::path(path).stem().string();
}

// ---------------------------------------------------------------------------------------------
// parsing
// ---------------------------------------------------------------------------------------------
namespace {

Source src(const std::string& file, const toml::node& n) {
  const auto& s = n.source();
  return Source{file, static_cast<int>(s.begin.line), static_cast<int>(s.begin.column)};
}

ParamValue to_value(const std::string& file, const std::string& key, const toml::node& n, const std::string& owner) {
  if (auto v = n.as_integer()) return ParamValue{v->get()};
  if (auto v = n.as_floating_point()) return ParamValue{v->get()};
  if (auto v = n.as_boolean()) return ParamValue{v->get()};
  if (auto v = n.as_string()) return ParamValue{v->get()};
  if (auto a = n.as_array()) {
    if (a->empty()) return ParamValue{std::vector<int64_t>{}};
    if (a->is_homogeneous(toml::node_type::integer)) {
      std::vector<int64_t> out;
      for (auto& e : *a) out.push_back(e.as_integer()->get());
      return out;
    }
    if (a->is_homogeneous(toml::node_type::string)) {
      std::vector<std::string> out;
      for (auto& e : *a) out.push_back(e.as_string()->get());
      return out;
    }
    bool numeric = true;
    for (auto& e : *a) numeric = numeric && (e.is_integer() || e.is_floating_point());
    if (numeric) {
      std::vector<double> out;
      for (auto& e : *a) out.push_back(e.is_integer() ? double(e.as_integer()->get()) : e.as_floating_point()->get());
      return out;
    }
    throw Error(src(file, n), owner + ": '" + key + "' must be a list of numbers or of strings, not a mixed list");
  }
  throw Error(src(file, n), owner + ": '" + key + "' has an unsupported value type (" +
                                std::string(toml::impl::node_type_friendly_names[static_cast<int>(n.type())]) +
                                "); parameters are numbers, booleans, strings or lists of them");
}

const toml::table& expect_table(const std::string& file, const toml::node& n, const std::string& what) {
  if (auto t = n.as_table()) return *t;
  throw Error(src(file, n), what + " must be a table");
}

std::string expect_string(const std::string& file, const toml::node& n, const std::string& what) {
  if (auto s = n.as_string()) return s->get();
  throw Error(src(file, n), what + " must be a string");
}

void check_layer_name(const std::string& file, const toml::node& n, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!ok) {
    throw Error(src(file, n), "layer name '" + name + "' is not valid: use 1-64 letters, digits, '_' or '-'");
  }
}

// A list of strings (`unset`, `remove`, `inputs`, `required`): each with where it was written.
// Not a list, an element that is not a string, or (non_empty) an empty list: `message`, located.
std::vector<std::pair<std::string, Source>> string_list(const std::string& file, const toml::node& n,
                                                        const std::string& message, bool non_empty = false) {
  auto arr = n.as_array();
  if (!arr || (non_empty && arr->empty())) throw Error(src(file, n), message);
  std::vector<std::pair<std::string, Source>> out;
  for (auto& e : *arr) {
    if (!e.is_string()) throw Error(src(file, e), message);
    out.emplace_back(e.as_string()->get(), src(file, e));
  }
  return out;
}

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Source>>& list) {
  std::vector<std::string> out;
  for (const auto& [name, _] : list) out.push_back(name);
  return out;
}

// Applies `unset = ["a", "b"]` of a table to a Params.
void apply_unset(const std::string& file, const toml::node& n, Params& p, const std::string& owner) {
  for (const auto& [key, at] : string_list(file, n, owner + ": 'unset' must be a list of parameter names")) {
    if (!p.has(key)) {
      throw Error(at, owner + ": cannot unset '" + key + "': the inherited table has no such parameter");
    }
    Params copy(p.owner(), p.where());
    for (const auto& [k, v] : p.values()) {
      if (k != key) copy.set(k, v, p.source(k));
    }
    p = copy;
  }
}

WrapSpec parse_wrap(const std::string& file, const toml::node& n, const std::string& owner) {
  auto t = n.as_table();
  if (!t) throw Error(src(file, n), owner + ": 'wrap' must be an inline table such as { type = \"spectral_norm\" }");
  WrapSpec w;
  w.where = src(file, n);
  w.raw = Params(owner, w.where);
  for (auto&& [k, v] : *t) {
    std::string key(k.str());
    if (key == "type") {
      w.type = expect_string(file, v, owner + ": wrap.type");
    } else {
      w.raw.set(key, to_value(file, key, v, owner + " wrap"), src(file, v));
    }
  }
  if (w.type.empty()) throw Error(w.where, owner + ": 'wrap' needs a type, e.g. { type = \"spectral_norm\" }");
  return w;
}

void fill_layer(const std::string& file, const toml::table& t, LayerSpec& layer, bool is_override,
                bool insert = false, bool patch = false) {
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    std::string owner = "layer '" + layer.name + "'";
    if (key == "name") {
      if (is_override || patch) throw Error(src(file, v), owner + ": an override cannot rename a layer");
      continue;
    } else if (key == "type") {
      layer.type = expect_string(file, v, owner + ": 'type'");
      layer.type_where = src(file, v);
      if (is_override && !layer.block.empty()) {  // an instance replaced by a plain layer: new arguments
        layer.block.clear();
        layer.raw = Params(layer.raw.owner(), layer.where);
      }
    } else if (key == "block") {
      layer.block = expect_string(file, v, owner + ": 'block'");
      layer.block_where = src(file, v);
      if (is_override && !layer.type.empty()) {  // a plain layer replaced by an instance
        layer.type.clear();
        layer.raw = Params(layer.raw.owner(), layer.where);
      }
    } else if (key == "inputs") {
      layer.inputs = names_of(string_list(file, v, owner + ": 'inputs' must be a non-empty list of layer names, e.g. "
                                                           "inputs = [\"up1\", \"shortcut\"]",
                                          /*non_empty=*/true));
      layer.inputs_where = src(file, v);
    } else if (key == "enabled") {
      if (!v.is_boolean() && !v.is_string()) {
        throw Error(src(file, v), owner + ": 'enabled' must be true, false or a block parameter such as \"$learn_sc\"");
      }
      layer.enabled = to_value(file, key, v, owner);
      layer.enabled_where = src(file, v);
    } else if (key == "init") {
      layer.init = expect_string(file, v, owner + ": 'init'");
      layer.init_where = src(file, v);
      static const std::vector<std::string> kInits = {"paper", "default", "xavier_uniform"};
      if (std::find(kInits.begin(), kInits.end(), layer.init) == kInits.end()) {
        throw Error(src(file, v), owner + ": init = \"" + layer.init +
                                          "\" is not one of \"paper\", \"default\", \"xavier_uniform\"");
      }
    } else if (key == "wrap") {
      if (auto s = v.as_string(); s && (s->get() == "none" || s->get() == "")) {
        layer.wrap.reset();
        layer.no_wrap = true;
      } else {
        layer.wrap = parse_wrap(file, v, owner);
        layer.no_wrap = false;
      }
    } else if (key == "unset") {
      if (patch) continue;  // collected by the caller
      if (!is_override) throw Error(src(file, v), owner + ": 'unset' is only meaningful in an override");
      apply_unset(file, v, layer.raw, owner);
    } else if (key == "before" || key == "after") {
      if (insert) continue;  // read by the insert edit
      throw Error(src(file, v), owner + ": '" + key + "' belongs in an insert ([[<net>.insert]] with before = or "
                                        "after = the layer it goes next to)");
    } else {
      layer.raw.set(key, to_value(file, key, v, owner), src(file, v));
    }
  }
}

// One [[...layers]] entry (or an inserted layer): its name, then everything else.
// `table` is "generator.layers" (for messages about the TOML), `owner` "generator" or "block 'res'".
LayerSpec parse_layer(const std::string& file, const toml::node& e, const std::string& table,
                      const std::string& owner, size_t index, bool insert = false) {
  const auto& lt = expect_table(file, e, "each [[" + table + "]] entry");
  LayerSpec layer;
  layer.where = src(file, e);
  auto name_node = lt.get("name");
  if (!name_node) throw Error(layer.where, owner + " layer #" + std::to_string(index + 1) + " has no 'name'");
  layer.name_where = src(file, *name_node);
  layer.name = expect_string(file, *name_node, owner + " layer 'name'");
  check_layer_name(file, *name_node, layer.name);
  layer.raw = Params("layer '" + layer.name + "'", layer.where);
  fill_layer(file, lt, layer, false, insert);
  if (layer.type.empty() && layer.block.empty()) {
    throw Error(layer.where, "layer '" + layer.name + "' has no 'type' (a layer type) or 'block' (a block instance)");
  }
  if (!layer.type.empty() && !layer.block.empty()) {
    throw Error(layer.block_where, "layer '" + layer.name + "' has both 'type' and 'block': a layer is one or the other");
  }
  return layer;
}

std::string layer_list(const std::vector<LayerSpec>& layers) {
  std::string list;
  for (const auto& l : layers) list += (list.empty() ? "" : ", ") + l.name;
  return list.empty() ? "none" : list;
}

std::vector<LayerSpec>::iterator find_layer(std::vector<LayerSpec>& layers, const std::string& name) {
  return std::find_if(layers.begin(), layers.end(), [&](const LayerSpec& l) { return l.name == name; });
}

// `layers`, then the edits of an inherited list: `remove = [...]`, `[[P.insert]]` (before/after a
// named layer), `[P.override.NAME]`. `path` is "generator" or "blocks.gblock", for messages.
void parse_layers_and_edits(const std::string& file, const toml::table& t, std::vector<LayerSpec>& layers,
                            RemovedLayers& removed, const std::string& path, const std::string& what,
                            std::vector<LayerPatch>* patches = nullptr) {
  if (auto layers_node = t.get("layers")) {
    auto arr = layers_node->as_array();
    if (!arr) throw Error(src(file, *layers_node), "[" + path + "] 'layers' must be an array of tables: [[" + path + ".layers]]");
    layers.clear();
    removed.clear();
    std::set<std::string> names;
    for (auto& e : *arr) {
      LayerSpec layer = parse_layer(file, e, path + ".layers", what, layers.size());
      if (!names.insert(layer.name).second) {
        throw Error(layer.name_where, "duplicate layer name '" + layer.name + "' in the " + what);
      }
      layers.push_back(std::move(layer));
    }
  }
  if (auto rm = t.get("remove")) {
    for (const auto& [name, at] : string_list(file, *rm, "[" + path + "] 'remove' must be a list of layer names")) {
      auto it = find_layer(layers, name);
      if (it == layers.end()) {
        throw Error(at, "[" + path + "] remove: the " + what + " has no layer '" + name + "'; its layers: " +
                            layer_list(layers));
      }
      layers.erase(it);
      removed[name] = at;
    }
  }
  if (auto ins = t.get("insert")) {
    auto arr = ins->as_array();
    if (!arr || !arr->is_array_of_tables()) {
      throw Error(src(file, *ins), "[" + path + "] 'insert' must be an array of tables: [[" + path + ".insert]] "
                                   "with before = \"NAME\" or after = \"NAME\" and the new layer");
    }
    for (auto& e : *arr) {
      const auto& it_table = *e.as_table();
      auto before = it_table.get("before"), after = it_table.get("after");
      if (!before == !after) {
        throw Error(src(file, e), "[[" + path + ".insert]]: give exactly one of before = \"NAME\" or after = \"NAME\"");
      }
      const toml::node& anchor_node = before ? *before : *after;
      std::string anchor = expect_string(file, anchor_node, "[[" + path + ".insert]] '" +
                                                                 std::string(before ? "before" : "after") + "'");
      LayerSpec layer = parse_layer(file, e, path + ".insert", what, 0, true);
      if (find_layer(layers, layer.name) != layers.end()) {
        throw Error(layer.where, "[[" + path + ".insert]]: the " + what + " already has a layer '" + layer.name + "'");
      }
      auto at = find_layer(layers, anchor);
      if (at == layers.end()) {
        throw Error(src(file, anchor_node), "[[" + path + ".insert]]: the " + what + " has no layer '" + anchor +
                                                "' to insert " + (before ? "before" : "after") +
                                                "; its layers: " + layer_list(layers));
      }
      removed.erase(layer.name);
      layers.insert(before ? at : at + 1, std::move(layer));
    }
  }
  if (auto ov = t.get("override")) {
    const auto& ot = expect_table(file, *ov, "[" + path + ".override]");
    for (auto&& [lname, lnode] : ot) {
      std::string name(lname.str());
      if (auto dot = name.find('.'); dot != std::string::npos && patches) {
        // a layer inside a block instance: checked and applied when the blocks are expanded
        auto inst = find_layer(layers, name.substr(0, dot));
        if (inst == layers.end() || inst->block.empty()) {
          throw Error(src(file, lnode), "[" + path + ".override.\"" + name + "\"]: the " + what + " has no block "
                                        "instance '" + name.substr(0, dot) + "'; its layers: " + layer_list(layers));
        }
        const auto& lt = expect_table(file, lnode, "[" + path + ".override.\"" + name + "\"]");
        LayerPatch patch;
        patch.target = name;
        patch.where = src(file, lnode);
        patch.set.name = name;
        patch.set.where = patch.where;
        patch.set.raw = Params("layer '" + name + "'", patch.where);
        for (auto&& [k, v] : lt) {
          if (k.str() == "unset") {
            patch.unset = names_of(string_list(file, v, "layer '" + name + "': 'unset' must be a list of parameter names"));
          }
        }
        fill_layer(file, lt, patch.set, /*is_override=*/false, /*insert=*/false, /*patch=*/true);
        if (!patch.set.block.empty()) {
          throw Error(patch.set.block_where, "[" + path + ".override.\"" + name + "\"]: a layer inside an instance "
                                             "cannot become a block instance");
        }
        patches->push_back(std::move(patch));
        continue;
      }
      auto it = find_layer(layers, name);
      if (it == layers.end()) {
        throw Error(src(file, lnode), "[" + path + ".override." + name + "]: the " + what + " has no layer '" + name +
                                          "' to override; its layers: " + layer_list(layers));
      }
      const auto& lt = expect_table(file, lnode, "[" + path + ".override." + name + "]");
      it->where = src(file, lnode);
      fill_layer(file, lt, *it, true);
    }
  }
}

void parse_network(const std::string& file, const toml::table& t, NetworkSpec& net) {
  const std::string role = net.role;
  if (!net.where.known()) net.where = src(file, t);
  parse_layers_and_edits(file, t, net.layers, net.removed, role, role, &net.patches);
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    if (key == "layers" || key == "remove" || key == "insert" || key == "override") continue;
    if (key == "latent_dim") {
      if (role != "generator") throw Error(src(file, v), "[" + role + "] has no 'latent_dim' (its input is the image)");
      auto i = v.as_integer();
      if (!i || i->get() < 1 || i->get() > 1 << 20) {
        throw Error(src(file, v), "[generator] 'latent_dim' must be an integer in [1, 1048576]");
      }
      net.latent_dim = i->get();
      net.latent_where = src(file, v);
    } else if (key == "wrap") {
      if (auto s = v.as_string(); s && s->get() == "none") {
        net.wrap.reset();
      } else {
        net.wrap = parse_wrap(file, v, "[" + role + "]");
      }
    } else {
      throw Error(src(file, v), "[" + role + "]: unknown key '" + key + "'; accepted: " +
                                    (role == "generator" ? "latent_dim, " : "") +
                                    "wrap, layers, insert, remove, override");
    }
  }
}

// [blocks.NAME] tables: declared once, instantiated by `block = "NAME"`. A file that extends
// another may redefine a block (`layers`), change its parameters' defaults, or edit its layers.
void parse_blocks(const std::string& file, const toml::node& n, std::map<std::string, BlockSpec>& blocks) {
  const auto& t = expect_table(file, n, "[blocks]");
  for (auto&& [bk, bv] : t) {
    std::string name(bk.str());
    const std::string path = "blocks." + name;
    const auto& bt = expect_table(file, bv, "[" + path + "]");
    if (!std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }) ||
        name.empty() || name.size() > 64) {
      throw Error(src(file, bv), "block name '" + name + "' is not valid: use 1-64 letters, digits, '_' or '-'");
    }
    BlockSpec& b = blocks[name];
    const bool inherited = !b.name.empty();
    if (!inherited) {
      b.name = name;
      b.defaults = Params("block '" + name + "'", src(file, bv));
    }
    b.where = src(file, bv);
    if (!inherited && !bt.get("layers")) {
      throw Error(b.where, "[" + path + "] declares no layers ([[" + path + ".layers]])");
    }
    parse_layers_and_edits(file, bt, b.layers, b.removed, path, "block '" + name + "'");
    for (auto&& [k, v] : bt) {
      std::string key(k.str());
      if (key == "layers" || key == "remove" || key == "insert" || key == "override") continue;
      if (key == "params") {
        const auto& pt = expect_table(file, v, "[" + path + "] 'params'");
        for (auto&& [pk, pv] : pt) {
          std::string pname(pk.str());
          b.defaults.set(pname, to_value(file, pname, pv, "block '" + name + "'"), src(file, pv));
          b.required.erase(std::remove(b.required.begin(), b.required.end(), pname), b.required.end());
        }
      } else if (key == "required") {
        for (const auto& [pname, at] :
             string_list(file, v, "[" + path + "] 'required' must be a list of parameter names")) {
          if (b.defaults.has(pname)) {
            throw Error(at, "[" + path + "]: parameter '" + pname + "' has a default in 'params' and is "
                            "also listed in 'required'; keep one");
          }
          if (std::find(b.required.begin(), b.required.end(), pname) == b.required.end()) b.required.push_back(pname);
        }
      } else if (key == "inputs") {
        b.inputs = names_of(string_list(file, v, "[" + path + "] 'inputs' must be a non-empty list of names, e.g. [\"in\"]",
                                        /*non_empty=*/true));
      } else {
        throw Error(src(file, v), "[" + path + "]: unknown key '" + key +
                                      "'; accepted: params, required, inputs, layers, insert, remove, override");
      }
    }
    for (const auto& l : b.layers) {
      if (std::find(b.inputs.begin(), b.inputs.end(), l.name) != b.inputs.end()) {
        throw Error(l.where, "block '" + name + "': layer name '" + l.name + "' is the name of one of its inputs");
      }
    }
  }
}

void parse_section(const std::string& file, const toml::node& n, SectionSpec& sec, const std::string& name) {
  const auto& t = expect_table(file, n, "[" + name + "]");
  if (!sec.present) {
    sec.where = src(file, t);
    sec.raw = Params("[" + name + "]", sec.where);
  }
  sec.present = true;
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    if (key == "unset") {
      apply_unset(file, v, sec.raw, "[" + name + "]");
      continue;
    }
    if (v.is_table() && name == "eval") {  // [eval.TYPE]: that metric's parameters
      const std::string owner = "[eval." + key + "]";
      auto it = sec.tables.find(key);
      if (it == sec.tables.end()) it = sec.tables.emplace(key, Params(owner, src(file, v))).first;
      for (auto&& [pk, pv] : *v.as_table()) {
        const std::string pkey(pk.str());
        if (pv.is_table()) throw Error(src(file, pv), owner + ": '" + pkey + "' is a table; it holds plain values");
        it->second.set(pkey, to_value(file, pkey, pv, owner), src(file, pv));
      }
      continue;
    }
    if (v.is_table()) throw Error(src(file, v), "[" + name + "]: '" + key + "' is a table; sections hold plain values");
    sec.raw.set(key, to_value(file, key, v, "[" + name + "]"), src(file, v));
  }
}

// A model file's text. Only regular files up to 1 MiB: `extends = "/dev/zero"` (or a FIFO) would
// otherwise never finish reading.
std::string read_model_text(const std::string& path, const Source& from) {
  constexpr std::streamsize kMax = 1 << 20;
  std::string what = from.known() ? "extends '" + path + "': " : path + ": ";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error(from, what + "not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(from, what + "cannot be read");
  std::string text(static_cast<size_t>(kMax) + 1, '\0');
  in.read(text.data(), kMax + 1);
  text.resize(static_cast<size_t>(in.gcount()));
  if (static_cast<std::streamsize>(text.size()) > kMax) throw Error(from, what + "larger than 1 MiB; not a model file");
  return text;
}

// TOML allows non-ASCII characters only inside strings and comments. toml++ 3.3 reaches
// __builtin_unreachable() (undefined behaviour; found by fuzzing) when it meets some of them
// elsewhere, e.g. `a = 1\u00e9` or `[ab\u00e9]`, while building its error message. Reject them first,
// with the position, so the parser only ever sees non-ASCII inside strings and comments.
void check_non_ascii(const std::string& file, const std::string& t) {
  int line = 1, col = 1;
  auto fail = [&] {
    throw Error(Source{file, line, col}, "TOML syntax error: non-ASCII character outside a string or comment");
  };
  auto starts = [&](size_t i, const char* s) { return t.compare(i, std::char_traits<char>::length(s), s) == 0; };
  size_t i = starts(0, "\xEF\xBB\xBF") ? 3 : 0;  // a UTF-8 byte order mark is allowed
  auto step = [&] {
    if (t[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(t[i]) & 0xC0) != 0x80) {
      ++col;  // count code points, not UTF-8 continuation bytes
    }
    ++i;
  };
  // toml++ treats a quote as opening a string only where a key or value starts; elsewhere (for
  // instance inside a malformed bare value: `a = 1x:"\u00e9`, also found by fuzzing) it is a
  // stray character and what follows is scanned as bare text. `prev`, the last character outside
  // strings, comments and blanks, tells the two apart.
  char prev = '\n';
  auto opens_string = [&] { return prev != '\0' && std::strchr("\n=[{,.", prev) != nullptr; };
  while (i < t.size()) {
    char c = t[i];
    if (c == '#') {
      while (i < t.size() && t[i] != '\n') step();
    } else if ((starts(i, "\"\"\"") || starts(i, "'''")) && opens_string()) {
      const char q = c;
      const bool escapes = q == '"';
      for (int k = 0; k < 3; ++k) step();
      // toml++ 3.3 also passes characters after a line-ending backslash (and the one right after
      // any backslash) to the same faulty whitespace test (found by fuzzing): no non-ASCII there.
      bool line_ending_backslash = false;
      while (i < t.size()) {
        if (escapes && t[i] == '\\' && i + 1 < t.size()) {
          const char n = t[i + 1];
          if (n == ' ' || n == '\t' || n == '\r' || n == '\n') line_ending_backslash = true;
          step();
          if (static_cast<unsigned char>(n) >= 0x80) fail();
          step();
        } else if (line_ending_backslash && static_cast<unsigned char>(t[i]) >= 0x80) {
          fail();
        } else if (t[i] == q && i + 2 < t.size() && t[i + 1] == q && t[i + 2] == q) {
          for (int k = 0; k < 3; ++k) step();
          for (int k = 0; k < 2 && i < t.size() && t[i] == q; ++k) step();  // up to 2 quotes of content
          prev = q;
          break;
        } else {
          step();
        }
      }
    } else if ((c == '"' || c == '\'') && opens_string()) {
      const bool escapes = c == '"';
      prev = c;
      step();
      while (i < t.size() && t[i] != c && t[i] != '\n') {
        if (escapes && t[i] == '\\' && i + 1 < t.size() && t[i + 1] != '\n') {
          step();
          if (static_cast<unsigned char>(t[i]) >= 0x80) fail();
        }
        step();
      }
      if (i < t.size() && t[i] == c) step();
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      fail();
    } else {
      if (c != ' ' && c != '\t' && c != '\r') prev = c;
      step();
    }
  }
}

ModelSpec load_recursive(const std::string& path, std::vector<std::string>& chain, const Source& from) {
  std::error_code ec;
  fs::path p(path);
  const std::string what = from.known() ? "extends '" + path + "': " : path + ": ";
  if (auto too_long = path_too_long(path)) throw Error(from, (from.known() ? "extends: " : "") + *too_long);
  if (!fs::exists(p, ec)) {
    // say why it cannot be reached: "file not found" for a loop of links sends the user looking
    // for a file that is there
    std::error_code lec;
    if (ec == std::errc::too_many_symbolic_link_levels) {
      throw Error(from, what + "symbolic link loop: the links never reach a file (" + ec.message() +
                            "): point the link at the model file itself");
    }
    if (ec == std::errc::filename_too_long) throw Error(from, what + "name too long (" + ec.message() + ")");
    if (ec == std::errc::permission_denied) {
      throw Error(from, what + "cannot be reached: permission denied on a folder of the path");
    }
    if (fs::is_symlink(fs::symlink_status(p, lec))) {
      throw Error(from, what + "a dangling symbolic link to " + fs::read_symlink(p, lec).string() +
                            " (which does not exist)");
    }
    throw Error(from, what + "file not found");
  }
  std::string canon = fs::weakly_canonical(p, ec).string();
  if (std::find(chain.begin(), chain.end(), canon) != chain.end()) {
    std::string cycle;
    for (const auto& c : chain) cycle += c + " -> ";
    throw Error(from, "circular extends: " + cycle + canon);
  }
  chain.push_back(canon);

  std::string text = read_model_text(path, from);
  check_non_ascii(path, text);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& s = e.source();
    throw Error(Source{path, static_cast<int>(s.begin.line), static_cast<int>(s.begin.column)},
                "TOML syntax error: " + std::string(e.description()));
  }

  ModelSpec spec;
  if (auto ext = root.get("extends")) {
    std::string base = expect_string(path, *ext, "'extends'");
    fs::path bp = fs::path(base).is_absolute() ? fs::path(base) : p.parent_path() / base;
    spec = load_recursive(bp.string(), chain, src(path, *ext));
  }
  spec.generator.role = "generator";
  spec.discriminator.role = "discriminator";
  spec.path = path;
  spec.files.insert(spec.files.begin(), path);

  for (auto&& [k, v] : root) {
    std::string key(k.str());
    if (key == "extends") continue;
    if (key == "model") parse_section(path, v, spec.model, key);
    else if (key == "data") parse_section(path, v, spec.data, key);
    else if (key == "train") parse_section(path, v, spec.train, key);
    else if (key == "loss") parse_section(path, v, spec.loss, key);
    else if (key == "eval") parse_section(path, v, spec.eval, key);
    else if (key == "generator") parse_network(path, expect_table(path, v, "[generator]"), spec.generator);
    else if (key == "discriminator") parse_network(path, expect_table(path, v, "[discriminator]"), spec.discriminator);
    else if (key == "blocks") parse_blocks(path, v, spec.blocks);
    else {
      std::vector<std::string> known = {"extends", "model", "data", "train", "loss", "eval", "generator", "discriminator", "blocks"};
      std::string hint = closest_name(key, known);
      throw Error(src(path, v), "unknown section '" + key + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                    "; a model file has: extends, [model], [data], [train], [loss], [eval], "
                                    "[generator], [discriminator], [blocks]");
    }
  }
  chain.pop_back();
  return spec;
}

}  // namespace

ModelSpec load_model(const std::string& path) {
  std::vector<std::string> chain;
  ModelSpec spec = load_recursive(path, chain, {});
  if (spec.generator.layers.empty()) {
    throw Error(Source{path, 0, 0}, "the model declares no generator layers ([[generator.layers]])");
  }
  if (spec.discriminator.layers.empty()) {
    throw Error(Source{path, 0, 0}, "the model declares no discriminator layers ([[discriminator.layers]])");
  }
  if (spec.generator.latent_dim == 0) {
    throw Error(spec.generator.where, "[generator] needs 'latent_dim', the size of the noise vector z");
  }
  if (!spec.data.present) throw Error(Source{path, 0, 0}, "the model has no [data] section (type, channels, size)");
  return spec;
}

// ---------------------------------------------------------------------------------------------
// validation and shape inference
// ---------------------------------------------------------------------------------------------
namespace {

using detail::blame_for_output;
using detail::reowned;

}  // namespace

ModelReport check_model(const ModelSpec& spec, const Registry& reg) {
  ModelReport rep;
  validate_params(model_param_specs(), spec.model.raw);

  // [data]: framework keys + the dataset's own parameters
  const Params& draw = spec.data.raw;
  Params framework_data = validate_params(
      data_param_specs(), reowned(draw, draw.owner(), draw.where(), [&] {
        std::vector<std::string> drop;
        for (const auto& [k, v] : draw.values()) {
          if (k != "type" && k != "channels" && k != "size") drop.push_back(k);
        }
        return drop;
      }()));
  rep.data_type = framework_data.string("type");
  int64_t channels = framework_data.integer("channels");
  int64_t size = framework_data.integer("size");
  rep.image = {channels, size, size};
  {
    const DatasetFactory& df = reg.dataset(rep.data_type, draw.source("type"));
    std::vector<std::string> drop = {"type"};
    for (const char* k : {"channels", "size"}) {
      bool declared = std::any_of(df.params.begin(), df.params.end(), [&](const ParamSpec& s) { return s.name == k; });
      if (!declared) drop.push_back(k);
    }
    rep.data = validate_params(df.params, reowned(draw, "[data] (" + rep.data_type + ")", spec.data.where, drop));
  }

  rep.train = validate_params(train_param_specs(), reowned(spec.train.raw, "[train]", spec.train.where));

  // [loss]
  rep.loss_type = "minimax";
  if (auto it = spec.loss.raw.values().find("type"); it != spec.loss.raw.values().end()) {
    auto s = std::get_if<std::string>(&it->second);
    if (!s) throw Error(spec.loss.raw.source("type"), "[loss]: 'type' must be a string");
    rep.loss_type = *s;
  }
  {
    const LossFactory& lf = reg.loss(rep.loss_type, spec.loss.raw.source("type"));
    rep.loss = validate_params(lf.params, reowned(spec.loss.raw, "[loss]", spec.loss.where, {"type"}));
  }

  // [eval]
  rep.eval = validate_params(eval_param_specs(), reowned(spec.eval.raw, "[eval]", spec.eval.where));
  rep.metrics = rep.eval.strings("metrics");
  for (const auto& m : rep.metrics) {
    const MetricFactory& mf = reg.metric(m, rep.eval.source("metrics"));
    auto t = spec.eval.tables.find(m);
    const Params raw = t != spec.eval.tables.end() ? t->second : Params("[eval." + m + "]", spec.eval.where);
    rep.metric_params[m] = validate_params(mf.params, raw);
  }
  for (const auto& [type, table] : spec.eval.tables) {
    if (!rep.metric_params.count(type)) {
      std::string list;
      for (const auto& m : rep.metrics) list += (list.empty() ? "" : ", ") + m;
      throw Error(table.where(), "[eval." + type + "]: '" + type + "' is not one of [eval] metrics (" + list +
                                     "): add it to metrics, or remove the table");
    }
  }
  if (!rep.train.string("keep_best").empty()) {
    const std::string& kb = rep.train.string("keep_best");
    if (std::find(rep.metrics.begin(), rep.metrics.end(), kb) == rep.metrics.end()) {
      throw rep.train.error("keep_best", "keep_best = \"" + kb + "\" is not one of [eval] metrics");
    }
    if (rep.train.integer("eval_every") == 0) {
      throw rep.train.error("keep_best", "keep_best needs eval_every > 0 in [train]");
    }
  }

  // networks
  rep.generator = detail::infer_network(spec.generator, spec.blocks, Shape{spec.generator.latent_dim}, reg);
  if (rep.generator.output != rep.image) {
    auto [at, from] = blame_for_output(rep.generator);
    throw Error(at, "generator output " + shape_str(rep.generator.output) + from +
                        " does not match the data's " + shape_str(rep.image) + " ([data] channels = " +
                        std::to_string(channels) + ", size = " + std::to_string(size) + " at " +
                        spec.data.where.str() + ")");
  }
  rep.discriminator = detail::infer_network(spec.discriminator, spec.blocks, rep.image, reg);
  if (shape_numel(rep.discriminator.output) != 1) {
    auto [at, from] = blame_for_output(rep.discriminator);
    throw Error(at, "discriminator output " + shape_str(rep.discriminator.output) + from +
                        " must be a single logit per image: end with a linear layer of out_features = 1");
  }
  check_double_backward(spec, rep, reg);  // gan/compat.hpp: a gradient penalty needs twice-differentiable layers
  return rep;
}

// ---------------------------------------------------------------------------------------------
// writing the merged model back
// ---------------------------------------------------------------------------------------------
namespace {
void write_params(std::ostringstream& os, const Params& p) {
  for (const auto& [k, v] : p.values()) os << k << " = " << param_value_str(v) << "\n";
}
void write_wrap(std::ostringstream& os, const WrapSpec& w) {
  os << "wrap = { type = \"" << w.type << "\"";
  for (const auto& [k, v] : w.raw.values()) os << ", " << k << " = " << param_value_str(v);
  os << " }\n";
}
void write_section(std::ostringstream& os, const SectionSpec& s, const std::string& name) {
  if (!s.present) return;
  os << "[" << name << "]\n";
  write_params(os, s.raw);
  os << "\n";
  for (const auto& [key, table] : s.tables) {
    os << "[" << name << "." << key << "]\n";
    write_params(os, table);
    os << "\n";
  }
}
std::string quoted(const std::string& s) { return param_value_str(ParamValue{s}); }
void write_layer(std::ostringstream& os, const LayerSpec& l, const std::string& table) {
  os << "[[" << table << "]]\n";
  os << "name = " << quoted(l.name) << "\n";
  if (!l.block.empty()) os << "block = " << quoted(l.block) << "\n";
  if (!l.type.empty()) os << "type = " << quoted(l.type) << "\n";
  if (!l.inputs.empty()) os << "inputs = " << param_value_str(ParamValue{l.inputs}) << "\n";
  if (l.enabled) os << "enabled = " << param_value_str(*l.enabled) << "\n";
  if (!l.init.empty()) os << "init = " << quoted(l.init) << "\n";
  write_params(os, l.raw);
  if (l.wrap) write_wrap(os, *l.wrap);
  if (l.no_wrap) os << "wrap = \"none\"\n";
  os << "\n";
}
void write_network(std::ostringstream& os, const NetworkSpec& n) {
  os << "[" << n.role << "]\n";
  if (n.role == "generator") os << "latent_dim = " << n.latent_dim << "\n";
  if (n.wrap) write_wrap(os, *n.wrap);
  os << "\n";
  for (const auto& l : n.layers) write_layer(os, l, n.role + ".layers");
  for (const auto& p : n.patches) {
    os << "[" << n.role << ".override." << quoted(p.target) << "]\n";
    if (!p.set.type.empty()) os << "type = " << quoted(p.set.type) << "\n";
    if (!p.set.inputs.empty()) os << "inputs = " << param_value_str(ParamValue{p.set.inputs}) << "\n";
    if (p.set.enabled) os << "enabled = " << param_value_str(*p.set.enabled) << "\n";
    if (!p.set.init.empty()) os << "init = " << quoted(p.set.init) << "\n";
    write_params(os, p.set.raw);
    if (p.set.wrap) write_wrap(os, *p.set.wrap);
    if (p.set.no_wrap) os << "wrap = \"none\"\n";
    if (!p.unset.empty()) os << "unset = " << param_value_str(ParamValue{p.unset}) << "\n";
    os << "\n";
  }
}
void write_block(std::ostringstream& os, const BlockSpec& b) {
  os << "[blocks." << b.name << "]\n";
  if (!b.defaults.values().empty()) {
    os << "params = { ";
    bool first = true;
    for (const auto& [k, v] : b.defaults.values()) {
      os << (first ? "" : ", ") << k << " = " << param_value_str(v);
      first = false;
    }
    os << " }\n";
  }
  if (!b.required.empty()) os << "required = " << param_value_str(ParamValue{b.required}) << "\n";
  os << "inputs = " << param_value_str(ParamValue{b.inputs}) << "\n\n";
  for (const auto& l : b.layers) write_layer(os, l, "blocks." + b.name + ".layers");
}
}  // namespace

std::string model_to_toml(const ModelSpec& spec) {
  std::ostringstream os;
  // a comment holds one line of UTF-8: a path with a newline or other bytes is shown escaped
  os << "# Resolved model: " << printable(spec.path);
  for (size_t i = 1; i < spec.files.size(); ++i) os << " <- " << printable(spec.files[i]);
  os << "\n\n";
  write_section(os, spec.model, "model");
  write_section(os, spec.data, "data");
  write_section(os, spec.train, "train");
  write_section(os, spec.loss, "loss");
  write_section(os, spec.eval, "eval");
  for (const auto& [_, b] : spec.blocks) write_block(os, b);
  write_network(os, spec.generator);
  write_network(os, spec.discriminator);
  return os.str();
}

}  // namespace gan
