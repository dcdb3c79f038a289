// gan export RUN|CKPT --out G.pt [--which latest|best] [--which ema|raw] [--json]
//
// Writes the generator as a TorchScript module: torch.jit.load("G.pt") in Python, without gan,
// then G(z) with z of shape [n, G.latent_dim] gives images [n, C, H, W] in G.output_range.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "options.hpp"
#include "gan/error.hpp"
#include "gan/export.hpp"
#include "gan/log.hpp"

namespace gan::cli {

void add_export_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("export", "write a run's generator as TorchScript (torch.jit.load in Python, no gan "
                                           "needed): forward(z) -> images");
  struct Opts {
    std::string src, out;
    WhichGenerator which;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("run", o->src, "run folder or checkpoint file")->required()->type_name("RUN|CKPT");
  cmd->add_option("--out", o->out, "the TorchScript file to write (an earlier export there is replaced)")
      ->required()->type_name("FILE.pt");
  add_which_option(cmd, o->which);
  cmd->add_flag("--json", o->json, "print what was written as JSON on stdout");
  cmd->callback([&g, o] {
    resolve_which(o->which);
    ExportOptions eo;
    eo.checkpoint = o->which.checkpoint;
    eo.generator = o->which.generator;
    load_all_plugins(g);
    ExportResult r = export_generator(o->src, o->out, eo);
    if (o->json) {
      Json j = r.meta;
      j["path"] = r.path;
      j["max_abs_diff"] = r.max_abs_diff;
      std::cout << j.dump(2) << std::endl;
      return;
    }
    char diff[32];
    std::snprintf(diff, sizeof diff, "%.2g", r.max_abs_diff);
    std::string shape;
    for (int64_t d : r.image_shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    log::info("wrote " + r.path + ": the " + (r.ema ? "EMA generator" : "generator") + " of " + r.checkpoint +
              " (iteration " + std::to_string(r.iteration) + ", " + std::to_string(r.parameters) +
              " parameters), forward(z [n, " + std::to_string(r.latent_dim) + "]) -> images [n, " + shape +
              "] in [-1, 1]; reproduces gan's generator to " + diff +
              " (max |difference| on a fresh batch)");
  });
}

}  // namespace gan::cli
