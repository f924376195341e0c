#include "kernels/x86/bf16.h"

namespace squeezenet::bf16 {

void pack(avx2::PackedConv& c) {
  const int run = c.run(), rows = c.kernel;
  const int64_t pairs = c.run_pairs();
  c.bf16_panels.assign(static_cast<std::size_t>(c.blocks() * c.bf16_panel_size()), 0);
  for (int b = 0; b < c.blocks(); ++b) {
    const float* from = c.panels.data() + b * c.panel_size();
    uint16_t* to = c.bf16_panels.data() + b * c.bf16_panel_size();
    for (int s = 0; s < rows; ++s)
      for (int k = 0; k < run; ++k)
        for (int o = 0; o < avx2::kTileChannels; ++o)
          to[((s * pairs + k / 2) * avx2::kTileChannels + o) * 2 + k % 2] =
              round(from[(int64_t{s} * run + k) * avx2::kTileChannels + o]);
  }
  c.panels = {};
}

}  // namespace squeezenet::bf16
