// gan plugins [--describe TYPE] [--json]: what the loaded plugins provide.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "gan/json.hpp"
#include "gan/plugin_loader.hpp"
#include "gan/registry.hpp"

namespace gan::cli {
namespace {

Json param_json(const ParamSpec& s) {
  Json p = Json::object();
  p["name"] = s.name;
  p["type"] = param_type_name(s.type);
  p["required"] = s.is_required;
  p["default"] = s.default_value ? Json(param_value_str(*s.default_value)) : Json();
  p["min"] = s.min ? Json(*s.min) : Json();
  p["max"] = s.max ? Json(*s.max) : Json();
  Json choices = Json::array();
  for (const auto& c : s.choices) choices.push_back(c);
  p["choices"] = choices;
  p["doc"] = s.doc;
  return p;
}

Json type_json(const TypeInfo& t) {
  Json j = Json::object();
  j["kind"] = kind_name(t.kind);
  j["type"] = t.type;
  j["plugin"] = t.plugin;
  j["library"] = t.origin;
  j["wrapper"] = t.wrapper;
  j["doc"] = t.doc;
  Json params = Json::array();
  if (t.params) {
    for (const auto& s : *t.params) params.push_back(param_json(s));
  }
  j["params"] = params;
  return j;
}

void describe(const TypeInfo& t) {
  std::printf("%s %s  (plugin '%s', %s)\n\n", kind_name(t.kind), t.type.c_str(), t.plugin.c_str(), t.origin.c_str());
  std::printf("%s\n\n", t.doc.c_str());
  if (!t.params || t.params->empty()) {
    std::printf("No parameters.\n");
    return;
  }
  std::printf("Parameters:\n");
  for (const auto& s : *t.params) {
    std::printf("  %-22s %s\n  %-22s %s\n", s.name.c_str(), s.constraint_str().c_str(), "", s.doc.c_str());
  }
}

}  // namespace

void add_plugins_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("plugins", "list the plugin libraries and the types they register");
  auto describe_type = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--describe", *describe_type, "print one type's documentation and parameters")->type_name("TYPE");
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([&g, describe_type, json] {
    load_all_plugins(g);
    const Registry& reg = Registry::global();
    if (!describe_type->empty()) {
      const TypeInfo* t = reg.find(*describe_type);
      if (!t) {
        std::vector<std::string> all;
        for (const auto& i : reg.list()) all.push_back(i.type);
        std::string hint = closest_name(*describe_type, all);
        throw Error("unknown type '" + *describe_type + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                    ": run `gan plugins` for the list");
      }
      if (*json) {
        std::cout << type_json(*t).dump(2) << "\n";
      } else {
        describe(*t);
      }
      return;
    }
    if (*json) {
      Json out = Json::object();
      Json plugins = Json::array();
      for (const auto& p : loaded_plugins()) {
        Json pj = Json::object();
        pj["name"] = p.name;
        pj["version"] = p.version;
        pj["library"] = p.path;
        Json types = Json::array();
        for (const auto& t : p.types) types.push_back(t);
        pj["types"] = types;
        plugins.push_back(pj);
      }
      out["plugins"] = plugins;
      Json types = Json::array();
      for (const auto& t : reg.list()) types.push_back(type_json(t));
      out["types"] = types;
      std::cout << out.dump(2) << "\n";
      return;
    }
    std::printf("Plugin folders searched:\n");
    PluginSearch search;
    search.extra_dirs = g.plugin_dirs;
    for (const auto& d : plugin_dirs(search)) std::printf("  %s\n", d.c_str());
    std::printf("\nPlugins:\n");
    for (const auto& p : loaded_plugins()) std::printf("  %-10s %-8s %s\n", p.name.c_str(), p.version.c_str(), p.path.c_str());
    for (Kind k : {Kind::Layer, Kind::Dataset, Kind::Loss, Kind::Metric}) {
      std::printf("\n%s types:\n", kind_name(k));
      for (const auto& t : reg.list()) {
        if (t.kind != k) continue;
        std::string doc = t.doc.substr(0, t.doc.find('.') == std::string::npos ? t.doc.size() : t.doc.find('.') + 1);
        std::printf("  %-14s %-10s %s\n", t.type.c_str(), t.plugin.c_str(), doc.c_str());
      }
    }
    std::printf("\n`gan plugins --describe TYPE` shows a type's parameters.\n");
  });
}

}  // namespace gan::cli
