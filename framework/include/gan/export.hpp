// gan/export.hpp — a run's generator as a TorchScript file that PyTorch loads without gan:
//
//   G = torch.jit.load("G.pt")
//   images = G(torch.randn(16, G.latent_dim))     # [16, C, H, W] in G.output_range, (-1.0, 1.0)
//
// The generator is traced (torch::jit::tracer) in eval mode on the CPU, its parameters and
// buffers kept as the module's own (G.state_dict() has gan's names, G.to("cuda") moves them).
// Layers whose fast path is not made of ATen operators (AdaConv's fused kernels) take their
// reference path while tracing (torch::jit::tracer::isTracing()). The traced module is then run
// on a fresh batch of another size and compared with gan's generator: an export that does not
// reproduce it is refused, not written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gan/json.hpp"

namespace gan {

struct ExportOptions {
  std::string checkpoint = "latest";  // of a run folder: latest or best
  std::string generator = "auto";     // ema, raw, or auto (EMA where the run has one)
  int64_t trace_batch = 2;            // the example batch traced
  int64_t check_batch = 5;            // the fresh batch the traced module must reproduce
  double tolerance = 1e-4;            // max |traced - gan| accepted (images in [-1, 1])
};

struct ExportResult {
  std::string path, checkpoint;
  int64_t iteration = 0, latent_dim = 0;
  std::vector<int64_t> image_shape;  // [C, H, W]
  bool ema = false;
  double max_abs_diff = 0;  // traced vs gan's generator on the check batch
  int64_t parameters = 0;
  Json meta;  // also stored in the file as extra/gan.json
};

class NetworkImpl;

// The traced module of a generator (put in eval mode, on the CPU) as the bytes of a TorchScript
// archive, `meta` stored in it as extra/gan.json; checked against G on a fresh batch (throws
// gan::Error, naming `what`, when it does not reproduce it). Fills in the result's image_shape,
// parameters and max_abs_diff.
std::string generator_torchscript(NetworkImpl& G, int64_t latent_dim, Json meta, const ExportOptions& opt,
                                  const std::string& what, ExportResult& result);

// Writes the generator of RUN (a run folder, or a checkpoint file in one) to `out`. Refuses to
// replace a file that is not an earlier gan export.
ExportResult export_generator(const std::string& run_or_checkpoint, const std::string& out,
                              const ExportOptions& opt = {});

}  // namespace gan
