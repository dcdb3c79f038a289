// The model language's networks as graphs: block expansion, input resolution, cycle and
// dangling-output checks and shape inference (model_graph.hpp). The core knows the graph, never
// the layer types: every layer is reached through the registry.
#include "model_graph.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "gan/checked.hpp"
#include "gan/registry.hpp"

namespace gan::detail {
namespace {

constexpr int kMaxBlockDepth = 16;
// Blocks of blocks multiply: 10 instances of a block of 10 instances of ... is a model no machine
// holds. The expansion stops at this many layers with an error instead of exhausting memory.
constexpr size_t kMaxLayers = 100000;

// One layer of the expanded network.
struct FlatLayer {
  LayerSpec spec;                   // name: the full name ("block2.conv1"); raw: arguments substituted
  std::vector<std::string> inputs;  // full names (possibly aliases), or the network's input
  Source inputs_where;              // where the inputs were named (or the layer, for the default)
  std::string instance;             // outermost instance ("block2"), "" at the top level
  Source instance_where;
  std::string context;              // "in instance 'block2' of block 'gblock'", for messages
  size_t order = 0;                 // declaration order, for a stable execution order
};

struct Expansion {
  std::vector<FlatLayer> layers;
  std::map<std::string, std::string> aliases;  // instance name -> its output; disabled layer -> its input
  std::map<std::string, Source> alias_where;
  std::string input_name;                      // "z" | "x"
};

struct Scope {
  std::string prefix;                               // "" or "block2." or "block2.inner."
  std::map<std::string, std::string> inputs;        // the block's input names -> full names
  std::vector<std::string> input_order;
  const Params* args = nullptr;                     // the instance's arguments (null at top level)
  const BlockSpec* block = nullptr;
  std::vector<std::string> chain;                   // blocks being expanded, for cycles
  std::string instance;                             // outermost instance
  Source instance_where;
  std::string context;
  std::string init;                                 // an instance's init, inherited by its layers
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : ", ") + e;
  return s;
}

std::string where_in(const Scope& sc) {
  return sc.block ? "block '" + sc.block->name + "'" : "the network";
}

// "$name" -> the instance's argument `name`.
std::optional<std::string> param_ref(const ParamValue& v) {
  if (auto s = std::get_if<std::string>(&v); s && s->size() > 1 && (*s)[0] == '$') return s->substr(1);
  return std::nullopt;
}

std::pair<ParamValue, Source> substitute(const ParamValue& v, const Source& at, const Scope& sc,
                                         const std::string& owner) {
  auto ref = param_ref(v);
  if (!ref) return {v, at};
  if (!sc.args) {
    throw Error(at, owner + ": \"$" + *ref + "\" names a block parameter, but the layer is not inside a block");
  }
  if (!sc.args->has(*ref)) {
    std::vector<std::string> names;
    for (const auto& [k, _] : sc.args->values()) names.push_back(k);
    std::string hint = closest_name(*ref, names);
    throw Error(at, owner + ": block '" + sc.block->name + "' has no parameter '" + *ref + "'" +
                        (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                        "; its parameters: " + (names.empty() ? "none" : join(names)));
  }
  return {sc.args->values().at(*ref), sc.args->source(*ref)};
}

Params substitute_all(const Params& raw, const Scope& sc, const std::string& owner) {
  Params out(raw.owner(), raw.where());
  for (const auto& [k, v] : raw.values()) {
    auto [nv, at] = substitute(v, raw.source(k), sc, owner);
    out.set(k, nv, at);
  }
  return out;
}

class Expander {
 public:
  Expander(const NetworkSpec& net, const std::map<std::string, BlockSpec>& blocks) : net_(net), blocks_(blocks) {
    ex_.input_name = net.role == "generator" ? "z" : "x";
  }

  Expansion run() {
    for (const auto& l : net_.layers) {
      if (l.name == ex_.input_name) {
        throw Error(l.where, "layer name '" + l.name + "' is the " + net_.role + "'s input (" + ex_.input_name +
                                 "); choose another name");
      }
    }
    for (const auto& p : net_.patches) {
      if (!p.set.inputs.empty() || p.set.enabled) {
        throw Error(p.where, "[" + net_.role + ".override.\"" + p.target + "\"]: 'inputs' and 'enabled' of a layer "
                             "inside a block are the block's: edit the block ([blocks.NAME.override.LAYER])");
      }
    }
    Scope top;
    expand(net_.layers, net_.removed, top, ex_.input_name);
    for (size_t i = 0; i < net_.patches.size(); ++i) {
      if (patched_.count(i)) continue;
      const auto& p = net_.patches[i];
      std::vector<std::string> inside;
      const std::string inst = p.target.substr(0, p.target.find('.') + 1);
      for (const auto& f : ex_.layers)
        if (f.spec.name.rfind(inst, 0) == 0) inside.push_back(f.spec.name);
      throw Error(p.where, "[" + net_.role + ".override.\"" + p.target + "\"]: the " + net_.role + " has no layer '" +
                               p.target + "'; the instance's layers: " + (inside.empty() ? "none" : join(inside)));
    }
    return ex_;  // a copy: resolve() keeps reading the aliases
  }

  // Follows aliases to a layer of the expansion (or the network's input).
  std::string resolve(const std::string& name, const Source& at) const {
    std::string n = name;
    for (size_t hops = 0; hops <= ex_.aliases.size() + 1; ++hops) {
      auto it = ex_.aliases.find(n);
      if (it == ex_.aliases.end()) return n;
      n = it->second;
    }
    throw Error(at, "layer '" + name + "': disabled layers (enabled = false) pass their input through, and "
                                       "these read each other in a cycle");
  }

 private:
  // Expands `layers` (the network's, or a block's) under `sc`; `first_input` feeds a first layer
  // that names no inputs. Returns the full name of the scope's output (its last layer).
  std::string expand(const std::vector<LayerSpec>& layers, const RemovedLayers& removed, const Scope& sc,
                     const std::string& first_input) {
    std::set<std::string> local;
    for (const auto& l : layers) local.insert(l.name);
    std::string prev = first_input;
    for (const auto& l : layers) {
      const std::string full = sc.prefix + l.name;
      const std::string owner = "layer '" + full + "'" + (l.type.empty() ? "" : " (" + l.type + ")");
      if (++visited_ > 4 * kMaxLayers) {
        throw Error(l.where, owner + ": the " + net_.role + " expands to more than " + std::to_string(4 * kMaxLayers) +
                                 " layers and instances (blocks instantiated inside blocks multiply); is a block "
                                 "instantiated more often than intended?");
      }
      // inputs
      std::vector<std::string> inputs;
      Source inputs_where = l.inputs.empty() ? l.where : l.inputs_where;
      if (l.inputs.empty()) {
        inputs.push_back(prev);
      } else {
        for (const auto& in : l.inputs) inputs.push_back(lookup(in, local, removed, sc, l, owner));
      }
      // enabled = false: the layer is its input
      bool enabled = true;
      if (l.enabled) {
        auto [v, at] = substitute(*l.enabled, l.enabled_where, sc, owner);
        auto b = std::get_if<bool>(&v);
        if (!b) throw Error(at, owner + ": 'enabled' must be true or false, not " + param_value_str(v));
        enabled = *b;
      }
      if (!enabled) {
        if (inputs.size() != 1) {
          throw Error(l.enabled_where, owner + ": a disabled layer passes its input through, so it needs exactly "
                                               "one input, not " + std::to_string(inputs.size()));
        }
        ex_.aliases[full] = inputs[0];
        ex_.alias_where[full] = l.where;
        prev = full;
        continue;
      }
      if (!l.block.empty()) {
        expand_instance(l, full, owner, inputs, sc);
      } else {
        FlatLayer f;
        f.spec = l;
        f.spec.name = full;
        f.spec.raw = substitute_all(l.raw, sc, owner);
        if (f.spec.wrap) f.spec.wrap->raw = substitute_all(f.spec.wrap->raw, sc, owner + " wrap");
        if (f.spec.init.empty()) f.spec.init = sc.init;
        apply_patches(f.spec);
        f.inputs = inputs;
        f.inputs_where = inputs_where;
        f.instance = sc.instance;
        f.instance_where = sc.instance_where;
        f.context = sc.context;
        f.order = ex_.layers.size();
        if (ex_.layers.size() >= kMaxLayers) {
          throw Error(l.where, owner + ": the " + net_.role + " expands to more than " + std::to_string(kMaxLayers) +
                                   " layers (blocks instantiated inside blocks multiply); is a block instantiated "
                                   "more often than intended?");
        }
        ex_.layers.push_back(std::move(f));
      }
      prev = full;
    }
    return prev;
  }

  // [<net>.override."block1.conv2"]: one instance's layer changed
  void apply_patches(LayerSpec& l) {
    for (size_t i = 0; i < net_.patches.size(); ++i) {
      const LayerPatch& p = net_.patches[i];
      if (p.target != l.name) continue;
      patched_.insert(i);
      if (!p.set.type.empty()) {
        l.type = p.set.type;
        l.type_where = p.set.type_where;
      }
      Params raw(l.raw.owner(), l.raw.where());
      for (const auto& [k, v] : l.raw.values()) {
        if (std::find(p.unset.begin(), p.unset.end(), k) == p.unset.end()) raw.set(k, v, l.raw.source(k));
      }
      for (const auto& u : p.unset) {
        if (!l.raw.has(u)) {
          throw Error(p.where, "layer '" + l.name + "': cannot unset '" + u + "': the block's layer has no such parameter");
        }
      }
      for (const auto& [k, v] : p.set.raw.values()) raw.set(k, v, p.set.raw.source(k));
      l.raw = raw;
      if (p.set.wrap) {
        l.wrap = p.set.wrap;
        l.no_wrap = false;
      }
      if (p.set.no_wrap) {
        l.wrap.reset();
        l.no_wrap = true;
      }
      if (!p.set.init.empty()) l.init = p.set.init;
    }
  }

  std::string lookup(const std::string& in, const std::set<std::string>& local, const RemovedLayers& removed,
                     const Scope& sc, const LayerSpec& l, const std::string& owner) {
    if (auto it = sc.inputs.find(in); it != sc.inputs.end()) return it->second;
    if (local.count(in)) {
      if (in == l.name) throw Error(l.inputs_where, owner + ": reads its own output (a cycle)");
      return sc.prefix + in;
    }
    // "block1.conv1": a layer inside a local instance; checked once everything is expanded
    if (auto dot = in.find('.'); dot != std::string::npos && local.count(in.substr(0, dot))) {
      pending_.push_back({sc.prefix + in, l.inputs_where, owner, in});
      return sc.prefix + in;
    }
    if (in == ex_.input_name) return ex_.input_name;
    std::vector<std::string> known(sc.input_order.begin(), sc.input_order.end());
    if (!sc.block) known.push_back(ex_.input_name);
    for (const auto& n : local) known.push_back(n);
    std::string why;
    if (auto r = removed.find(in); r != removed.end()) {
      why = ": it was removed (remove at " + r->second.str() + ")";
    } else {
      std::string hint = closest_name(in, known);
      why = hint.empty() ? "" : " (did you mean '" + hint + "'?)";
    }
    throw Error(l.inputs_where, owner + ": unknown input '" + in + "'" + why + "; " + where_in(sc) + " has: " +
                                    join(known));
  }

  void expand_instance(const LayerSpec& l, const std::string& full, const std::string& owner,
                       const std::vector<std::string>& inputs, const Scope& sc) {
    auto bit = blocks_.find(l.block);
    if (bit == blocks_.end()) {
      std::vector<std::string> names;
      for (const auto& [k, _] : blocks_) names.push_back(k);
      std::string hint = closest_name(l.block, names);
      throw Error(l.block_where, owner + ": unknown block '" + l.block + "'" +
                                     (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; declared blocks: " +
                                     (names.empty() ? "none (declare one as [blocks.NAME])" : join(names)));
    }
    const BlockSpec& b = bit->second;
    if (std::find(sc.chain.begin(), sc.chain.end(), b.name) != sc.chain.end() ||
        static_cast<int>(sc.chain.size()) >= kMaxBlockDepth) {
      throw Error(l.block_where, owner + ": block '" + b.name + "' instantiates itself (" + join(sc.chain) + " -> " +
                                     b.name + ")");
    }
    if (l.wrap || l.no_wrap) {
      throw Error(l.where, owner + ": 'wrap' applies to a layer, not a block instance; set it on the block's layers "
                                   "or the network's default wrap");
    }
    if (inputs.size() != b.inputs.size()) {
      throw Error(l.inputs.empty() ? l.where : l.inputs_where,
                  owner + ": block '" + b.name + "' takes " + std::to_string(b.inputs.size()) + " input(s) (" +
                      join(b.inputs) + "), but " + std::to_string(inputs.size()) + " given");
    }
    // arguments: the block's defaults, then the instance's values (themselves "$x" of an outer block)
    std::vector<std::string> declared;
    for (const auto& [k, _] : b.defaults.values()) declared.push_back(k);
    for (const auto& r : b.required) declared.push_back(r);
    auto args = std::make_unique<Params>("instance '" + full + "' of block '" + b.name + "'", l.where);
    for (const auto& [k, v] : b.defaults.values()) args->set(k, v, b.defaults.source(k));
    for (const auto& [k, v] : l.raw.values()) {
      if (std::find(declared.begin(), declared.end(), k) == declared.end()) {
        std::string hint = closest_name(k, declared);
        throw Error(l.raw.source(k), owner + ": block '" + b.name + "' has no parameter '" + k + "'" +
                                         (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                         "; its parameters: " + (declared.empty() ? "none" : join(declared)));
      }
      auto [nv, at] = substitute(v, l.raw.source(k), sc, owner);
      args->set(k, nv, at);
    }
    for (const auto& r : b.required) {
      if (!args->has(r)) {
        throw Error(l.where, owner + ": block '" + b.name + "' needs parameter '" + r + "' (declared at " +
                                 b.where.str() + ")");
      }
    }
    Scope inner;
    inner.prefix = full + ".";
    for (size_t i = 0; i < b.inputs.size(); ++i) inner.inputs[b.inputs[i]] = inputs[i];
    inner.input_order = b.inputs;
    inner.args = args.get();
    inner.block = &b;
    inner.chain = sc.chain;
    inner.chain.push_back(b.name);
    inner.instance = sc.instance.empty() ? full : sc.instance;
    inner.instance_where = sc.instance.empty() ? l.where : sc.instance_where;
    inner.context = (sc.context.empty() ? "" : sc.context + ", ") + "in instance '" + full + "' of block '" +
                    b.name + "' (" + b.where.str() + ")";
    inner.init = l.init.empty() ? sc.init : l.init;
    args_.push_back(std::move(args));
    std::string out;
    if (!sc.instance.empty()) {
      out = expand(b.layers, b.removed, inner, inputs[0]);
    } else {
      try {  // located at the outermost instance; the inner message names the block's line
        out = expand(b.layers, b.removed, inner, inputs[0]);
      } catch (const Error& e) {
        throw Error(l.where, inner.context + ": " + e.what());
      }
    }
    ex_.aliases[full] = out;
    ex_.alias_where[full] = l.where;
  }

 public:
  struct Pending {
    std::string full;
    Source at;
    std::string owner, written;
  };
  std::vector<Pending> pending_;

 private:
  const NetworkSpec& net_;
  const std::map<std::string, BlockSpec>& blocks_;
  Expansion ex_;
  std::vector<std::unique_ptr<Params>> args_;
  std::set<size_t> patched_;
  size_t visited_ = 0;
};

// An error raised inside a block instance is reported at the instance's line, naming the block's
// layer (whose own file:line the inner message carries).
[[noreturn]] void rethrow_in(const FlatLayer& f, const Error& e) {
  if (f.instance.empty()) throw e;
  throw Error(f.instance_where, f.context + ": " + e.what());
}

}  // namespace

NetworkReport infer_network(const NetworkSpec& net, const std::map<std::string, BlockSpec>& blocks,
                            const Shape& input, const Registry& reg) {
  Expander expander(net, blocks);
  Expansion ex = expander.run();
  const std::string& input_name = ex.input_name;

  std::map<std::string, size_t> index;
  for (size_t i = 0; i < ex.layers.size(); ++i) index[ex.layers[i].spec.name] = i;
  for (const auto& p : expander.pending_) {
    std::string r = expander.resolve(p.full, p.at);
    if (!index.count(r) && r != input_name) {
      std::vector<std::string> inside;
      const std::string inst = p.full.substr(0, p.full.rfind('.') + 1);
      for (const auto& f : ex.layers) {
        if (f.spec.name.rfind(inst, 0) == 0) inside.push_back(f.spec.name);
      }
      throw Error(p.at, p.owner + ": unknown input '" + p.written + "'; the instance's layers: " +
                            (inside.empty() ? "none" : join(inside)));
    }
  }
  if (ex.layers.empty()) {
    throw Error(net.where, "the " + net.role + " has no enabled layers: every layer is disabled (enabled = false)");
  }

  // resolved inputs as indices (-1: the network's input)
  const size_t n = ex.layers.size();
  std::vector<std::vector<long>> in_idx(n);
  std::vector<std::vector<std::string>> in_names(n);
  for (size_t i = 0; i < n; ++i) {
    for (const auto& name : ex.layers[i].inputs) {
      std::string r = expander.resolve(name, ex.layers[i].inputs_where);
      in_names[i].push_back(r);
      in_idx[i].push_back(r == input_name ? -1 : static_cast<long>(index.at(r)));
    }
  }

  // the output: the last layer written, through aliases
  std::string out_name = expander.resolve(net.layers.back().name, net.layers.back().where);
  if (out_name == input_name) {
    throw Error(net.layers.back().where, "the " + net.role + "'s output is its input: its last layer '" +
                                             net.layers.back().name + "' is disabled and reads " + input_name);
  }
  const size_t out_idx = index.at(out_name);

  // a cycle: depth-first search (iterative: a model may hold tens of thousands of layers),
  // reporting the loop of layer names
  {
    std::vector<int> state(n, 0);  // 0 new, 1 on the stack, 2 done
    std::vector<std::pair<size_t, size_t>> stack;  // (layer, next input to follow)
    for (size_t root = 0; root < n; ++root) {
      if (state[root] != 0) continue;
      stack.push_back({root, 0});
      state[root] = 1;
      while (!stack.empty()) {
        auto& [i, k] = stack.back();
        if (k == in_idx[i].size()) {
          state[i] = 2;
          stack.pop_back();
          continue;
        }
        const long j = in_idx[i][k++];
        if (j < 0 || state[j] == 2) continue;
        if (state[j] == 1) {
          std::string loop;
          auto it = std::find_if(stack.begin(), stack.end(), [&](const auto& e) { return e.first == static_cast<size_t>(j); });
          for (; it != stack.end(); ++it) loop += "'" + ex.layers[it->first].spec.name + "' -> ";
          loop += "'" + ex.layers[j].spec.name + "'";
          const FlatLayer& f = ex.layers[j];
          rethrow_in(f, Error(f.inputs_where, "layer '" + f.spec.name + "' (" + f.spec.type +
                                                  "): the layers' inputs form a cycle: " + loop +
                                                  " (each reads the next one's output); a network is a graph "
                                                  "without cycles"));
        }
        state[j] = 1;
        stack.push_back({static_cast<size_t>(j), 0});
      }
    }
  }

  // execution order: declaration order wherever the graph allows (Kahn, smallest index first)
  std::vector<size_t> order;
  {
    std::vector<int> pending(n, 0);
    std::vector<std::vector<size_t>> readers_of(n);
    for (size_t i = 0; i < n; ++i)
      for (long j : in_idx[i])
        if (j >= 0) {
          ++pending[i];
          readers_of[j].push_back(i);
        }
    std::set<size_t> ready;
    for (size_t i = 0; i < n; ++i)
      if (pending[i] == 0) ready.insert(i);
    while (!ready.empty()) {
      size_t i = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(i);
      for (size_t r : readers_of[i])
        if (--pending[r] == 0) ready.insert(r);
    }
  }
  // the output last: nothing reads it, so it may be moved behind the others
  order.erase(std::find(order.begin(), order.end(), out_idx));
  order.push_back(out_idx);

  NetworkReport rep;
  rep.role = net.role;
  rep.input_name = input_name;
  rep.input = input;
  std::vector<Shape> shapes(n);
  std::vector<bool> done(n, false);
  for (size_t i : order) {
    const FlatLayer& fl = ex.layers[i];
    const LayerSpec& layer = fl.spec;
    try {
      const LayerFactory& f = reg.layer(layer.type, layer.type_where.known() ? layer.type_where : layer.where);
      std::string owner = "layer '" + layer.name + "' (" + layer.type + ")";
      if (f.wrapper) {
        throw Error(layer.type_where, owner + ": '" + layer.type + "' wraps another layer; use it as "
                                      "wrap = { type = \"" + layer.type + "\" } on the layer it should wrap");
      }
      LayerReport lr;
      lr.name = layer.name;
      lr.type = layer.type;
      lr.where = fl.instance.empty() ? layer.where : fl.instance_where;
      lr.block_where = fl.instance.empty() ? Source{} : layer.where;
      lr.init = layer.init;
      lr.params = validate_params(f.params, reowned(layer.raw, owner, layer.where));
      LayerContext ctx;
      ctx.name = layer.name;
      ctx.type = layer.type;
      for (size_t k = 0; k < in_idx[i].size(); ++k) {
        long j = in_idx[i][k];
        ctx.inputs.push_back(j < 0 ? input : shapes[j]);
        ctx.inputs_from.push_back(j < 0 ? (net.role == "generator" ? "the latent vector z" : "the image x")
                                        : "'" + in_names[i][k] + "'");
      }
      const int count = static_cast<int>(ctx.inputs.size());
      if (count < f.min_inputs || (f.max_inputs >= 0 && count > f.max_inputs)) {
        std::string takes = f.min_inputs == f.max_inputs ? std::to_string(f.min_inputs)
                            : f.max_inputs < 0           ? "at least " + std::to_string(f.min_inputs)
                                                         : std::to_string(f.min_inputs) + " to " +
                                                               std::to_string(f.max_inputs);
        throw Error(fl.inputs_where, owner + ": takes " + takes + " input(s), but " + std::to_string(count) +
                                         (layer.inputs.empty() ? " (the previous layer's output)" : " are named") +
                                         (f.min_inputs > 1 ? ": name them with inputs = [\"a\", \"b\"]" : ""));
      }
      ctx.input = ctx.inputs[0];
      ctx.input_from = ctx.inputs_from[0];
      ctx.params = lr.params;
      lr.input = ctx.input;
      lr.input_shapes = ctx.inputs;
      lr.inputs = in_names[i];
      lr.input_from = join(ctx.inputs_from);
      LayerInfo info;
      try {
        info = f.infer(ctx);
      } catch (const Error&) {
        throw;
      } catch (const std::exception& e) {
        throw Error(layer.where, owner + ": " + e.what());
      }
      if (info.output.empty() ||
          std::any_of(info.output.begin(), info.output.end(), [](int64_t d) { return d < 1; })) {
        throw Error(layer.where, owner + ": produces an empty output from input " + shape_str(ctx.input));
      }
      try {
        checked_numel(info.output);
      } catch (const SizeOverflow& e) {
        throw Error(layer.where, owner + ": output " + shape_str(info.output) + ": " + e.what());
      }
      lr.output = info.output;
      lr.params_count = info.params;
      lr.macs = info.macs;

      // wrapper: explicit, or the network's default for layers with a weight
      std::optional<WrapSpec> wrap = layer.wrap;
      if (!wrap && !layer.no_wrap && net.wrap && f.has_weight) wrap = net.wrap;
      if (wrap) {
        const LayerFactory& wf = reg.layer(wrap->type, wrap->where);
        if (!wf.wrapper) {
          throw Error(wrap->where, owner + ": wrap type '" + wrap->type + "' is a plain layer, not a wrapper");
        }
        if (!f.has_weight) {
          throw Error(wrap->where, owner + ": cannot wrap a '" + layer.type + "' layer with '" + wrap->type +
                                       "': it has no weight to reparametrise");
        }
        WrapSpec resolved = *wrap;
        resolved.raw = validate_params(wf.params, reowned(wrap->raw, owner + " wrap " + wrap->type, wrap->where));
        LayerContext wctx = ctx;
        wctx.type = wrap->type;
        wctx.params = resolved.raw;
        wctx.inner_info = &info;
        LayerInfo winfo;
        try {
          winfo = wf.infer(wctx);
        } catch (const Error&) {
          throw;
        } catch (const std::exception& e) {
          throw Error(wrap->where, owner + " wrap: " + e.what());
        }
        lr.output = winfo.output;
        lr.params_count = winfo.params;
        lr.macs = winfo.macs;
        lr.wrap = resolved;
      }
      try {
        rep.params_count = checked_add(rep.params_count, lr.params_count);
        rep.macs = checked_add(rep.macs, lr.macs);
      } catch (const SizeOverflow& e) {
        throw Error(layer.where, owner + ": the " + net.role + "'s total parameters or multiply-adds: " + e.what());
      }
      shapes[i] = lr.output;
      rep.layers.push_back(std::move(lr));
    } catch (const Error& e) {
      rethrow_in(fl, e);
    }
  }
  // every output is read by someone (checked after the shapes: a merge with one input says so), or is the network's
  std::vector<int> readers(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (long j : in_idx[i])
      if (j >= 0) ++readers[j];
  for (size_t i = 0; i < n; ++i) {
    if (readers[i] == 0 && i != out_idx) {
      const FlatLayer& f = ex.layers[i];
      rethrow_in(f, Error(f.spec.where, "layer '" + f.spec.name + "' (" + f.spec.type +
                                            "): its output is read by no layer and is not the " + net.role +
                                            "'s output (the last layer, '" + out_name +
                                            "'): name it in a later layer's inputs, or remove it"));
    }
  }

  rep.output = shapes[out_idx];
  return rep;
}

namespace {
// When a network's output has the wrong size, the last layer is rarely the culprit: an even
// kernel_size three layers up turned 16x16 into 15x15 and every later layer kept the mistake.
// The first layer whose height or width changes by a ratio that is not a whole number (neither
// out/in nor in/out), e.g. 16 -> 15, is the one to blame: the layer whose output to point at.
// Null when every spatial change is a clean up- or down-sampling.
const LayerReport* first_size_break(const NetworkReport& net) {
  for (const auto& lr : net.layers) {
    if (lr.input.size() != 3 || lr.output.size() != 3) continue;
    for (int d = 1; d <= 2; ++d) {
      const int64_t in = lr.input[d], out = lr.output[d];
      if (in == out) continue;
      if ((out > in && out % in == 0) || (in > out && in % out == 0)) continue;
      return &lr;
    }
  }
  return nullptr;
}
}  // namespace

std::pair<Source, std::string> blame_for_output(const NetworkReport& net) {
  const auto& last = net.layers.back();
  const LayerReport* br = first_size_break(net);
  if (!br || br == &last) return {last.where, " (from layer '" + last.name + "')"};
  Source at = br->params.has("kernel_size") ? br->params.source("kernel_size") : br->where;
  if (!at.known()) at = br->where;
  std::string why = br->params.has("kernel_size")
                        ? " (kernel_size " + std::to_string(br->params.integer("kernel_size")) + ")"
                        : "";
  return {at, " (the size first goes wrong at layer '" + br->name + "' (" + br->type + "), which turns " +
                  shape_str(br->input) + " into " + shape_str(br->output) + why + "; the last layer '" + last.name +
                  "' only carries it on)"};
}

}  // namespace gan::detail
