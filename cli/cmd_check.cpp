// gan check MODEL.toml [--json]: validate a model file and print every layer's shape, parameter
// count and multiply-adds.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>
#include <iostream>

#include "commands.hpp"
#include "gan/json.hpp"
#include "gan/model.hpp"

namespace gan::cli {
namespace {

Json shape_json(const Shape& s) {
  Json a = Json::array();
  for (auto d : s) a.push_back(d);
  return a;
}

// A layer's validated parameters, defaults filled in, as typed JSON values.
Json params_json(const Params& p) {
  Json j = Json::object();
  for (const auto& [name, v] : p.values()) {
    j[name] = std::visit(
        [](const auto& x) -> Json {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int64_t> || std::is_same_v<T, double> ||
                        std::is_same_v<T, std::string>) {
            return Json(x);
          } else {
            Json a = Json::array();
            for (const auto& e : x) a.push_back(e);
            return a;
          }
        },
        v);
  }
  return j;
}

Json network_json(const NetworkReport& n, Json& all_layers) {
  Json j = Json::object();
  j["input_shape"] = shape_json(n.input);
  j["output_shape"] = shape_json(n.output);
  j["total_params"] = n.params_count;
  j["total_macs"] = n.macs;
  Json layers = Json::array();
  for (const auto& l : n.layers) {
    Json lj = Json::object();
    lj["network"] = n.role;
    lj["name"] = l.name;
    lj["type"] = l.type;
    lj["wrap"] = l.wrap ? Json(l.wrap->type) : Json();
    lj["config"] = params_json(l.params);
    lj["wrap_config"] = l.wrap ? params_json(l.wrap->raw) : Json();
    lj["input_shape"] = shape_json(l.input);
    Json ins = Json::array();
    for (const auto& in : l.inputs) ins.push_back(in);
    lj["inputs"] = ins;
    Json in_shapes = Json::array();
    for (const auto& s : l.input_shapes) in_shapes.push_back(shape_json(s));
    lj["input_shapes"] = in_shapes;
    lj["init"] = l.init.empty() ? Json() : Json(l.init);
    lj["output_shape"] = shape_json(l.output);
    lj["params"] = l.params_count;
    lj["macs"] = l.macs;
    lj["file"] = l.where.file;
    lj["line"] = l.where.line;
    if (l.block_where.known()) {
      lj["block_file"] = l.block_where.file;
      lj["block_line"] = l.block_where.line;
    }
    layers.push_back(lj);
    all_layers.push_back(lj);
  }
  j["layers"] = layers;
  return j;
}

std::string human(int64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  else if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 10000) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

void print_network(const NetworkReport& n) {
  std::printf("%s: %s %s -> %s\n", n.role.c_str(), n.input_name.c_str(), shape_str(n.input).c_str(),
              shape_str(n.output).c_str());
  size_t w = 14, wt = 15, wi = 6;
  for (const auto& l : n.layers) {
    w = std::max(w, l.name.size());
    wt = std::max(wt, l.type.size());
  }
  // inputs are shown where a layer does not simply read the one before it
  std::vector<std::string> ins(n.layers.size());
  for (size_t i = 0; i < n.layers.size(); ++i) {
    const auto& l = n.layers[i];
    const std::string prev = i == 0 ? n.input_name : n.layers[i - 1].name;
    if (l.inputs.size() == 1 && l.inputs[0] == prev) {
      ins[i] = "^";
    } else {
      for (const auto& in : l.inputs) ins[i] += (ins[i].empty() ? "" : ",") + in;
    }
    wi = std::max(wi, ins[i].size());
  }
  const int W = static_cast<int>(w), WT = static_cast<int>(wt), WI = static_cast<int>(wi);
  std::printf("  %-*s %-*s %-*s %-16s %-14s %12s %12s\n", W, "layer", WT, "type", WI, "inputs", "wrap", "output", "params",
              "MACs");
  for (size_t i = 0; i < n.layers.size(); ++i) {
    const auto& l = n.layers[i];
    std::printf("  %-*s %-*s %-*s %-16s %-14s %12lld %12s\n", W, l.name.c_str(), WT, l.type.c_str(), WI, ins[i].c_str(),
                l.wrap ? l.wrap->type.c_str() : "-", shape_str(l.output).c_str(),
                static_cast<long long>(l.params_count), human(l.macs).c_str());
  }
  std::printf("  %-*s %-*s %-*s %-16s %-14s %12lld %12s\n", W, "total", WT, "", WI, "", "", "",
              static_cast<long long>(n.params_count), human(n.macs).c_str());
  std::printf("  (inputs \"^\": the layer above)\n\n");
}

}  // namespace

void add_check_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("check", "validate a model file: types, parameters, shapes, parameter counts");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("model", *path, "model file (.toml)")->required()->type_name("MODEL.toml");
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([&g, path, json] {
    load_all_plugins(g);
    ModelSpec spec = load_model(*path);
    ModelReport rep = check_model(spec, Registry::global());
    if (*json) {
      Json out = Json::object();
      out["model"] = *path;
      out["name"] = spec.name();
      Json files = Json::array();
      for (const auto& f : spec.files) files.push_back(f);
      out["files"] = files;
      out["image_shape"] = shape_json(rep.image);
      out["data"] = rep.data_type;
      out["loss"] = rep.loss_type;
      out["loss_config"] = params_json(rep.loss);
      out["train"] = params_json(rep.train);
      out["latent_dim"] = spec.generator.latent_dim;
      Json all_layers = Json::array();
      out["generator"] = network_json(rep.generator, all_layers);
      out["discriminator"] = network_json(rep.discriminator, all_layers);
      out["layers"] = all_layers;
      std::cout << out.dump(2) << "\n";
      return;
    }
    std::printf("%s: %s (data %s %s, loss %s)\n\n", path->c_str(), spec.name().c_str(), rep.data_type.c_str(),
                shape_str(rep.image).c_str(), rep.loss_type.c_str());
    print_network(rep.generator);
    print_network(rep.discriminator);
    std::printf("ok: generator %lld parameters, discriminator %lld parameters\n",
                static_cast<long long>(rep.generator.params_count),
                static_cast<long long>(rep.discriminator.params_count));
  });
}

}  // namespace gan::cli
