#include "kernels/x86/bf16.h"

namespace squeezenet::bf16 {

namespace {

// `run` rows of 16 fp32 weights, [k][16], to bf16 pairs [k / 2][16][2]; `to` is zero-filled, so an odd run's
// last pair keeps its zero.
void to_pairs(const float* from, int run, uint16_t* to) {
  for (int k = 0; k < run; ++k)
    for (int o = 0; o < avx2::kTileChannels; ++o)
      to[((k / 2) * avx2::kTileChannels + o) * 2 + k % 2] = round(from[int64_t{k} * avx2::kTileChannels + o]);
}

}  // namespace

void pack(avx2::PackedConv& c) {
  const int run = c.run();
  c.bf16_panels.assign(static_cast<std::size_t>(c.blocks() * c.bf16_panel_size()), 0);
  for (int b = 0; b < c.blocks(); ++b)
    for (int s = 0; s < c.kernel; ++s)
      to_pairs(c.panels.data() + b * c.panel_size() + int64_t{s} * run * avx2::kTileChannels, run,
               c.bf16_panels.data() + b * c.bf16_panel_size() + int64_t{s} * c.run_pairs() * 2 * avx2::kTileChannels);
  c.panels = {};
}

void pack_winograd(avx2::PackedWinograd& p) {
  const int64_t panels = int64_t{p.blocks()} * p.positions();
  p.bf16_panels.assign(static_cast<std::size_t>(panels * p.bf16_panel_size()), 0);
  for (int64_t i = 0; i < panels; ++i)
    to_pairs(p.panels.data() + i * p.in_channels * avx2::kTileChannels, p.in_channels,
             p.bf16_panels.data() + i * p.bf16_panel_size());
  p.panels = {};
}

}  // namespace squeezenet::bf16
