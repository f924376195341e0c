// The integer weight transform of int8 Winograd F(2x2, 3x3) (int8_winograd.h) and its per-thread scratch.
#include <cstdlib>
#include <memory>
#include <new>

#include "kernels/x86/int8_winograd.h"

namespace squeezenet::x86::int8 {

bool winograd_fits(const QuantizedConv& conv) {
  const Conv2dSpec& s = conv.spec;
  return !conv.kept_fp32() && s.kernel == 3 && s.stride == 1 && s.padding == 1 && conv.input_zero_point == 0 &&
         s.in_channels <= kWinogradMaxChannels;
}

void pack_winograd(const QuantizedConv& q, int lanes, PackedConv& conv) {
  const int O = q.spec.out_channels, C = q.spec.in_channels, pairs = (C + 1) / 2, width = 2 * lanes;
  const int groups = (O + width - 1) / width;
  static constexpr int G[4][3] = {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}};
  conv.winograd.assign(static_cast<std::size_t>(groups) * 16 * pairs * width * 2, 0);
  for (int o = 0; o < O; ++o)
    for (int c = 0; c < C; ++c) {
      const int8_t* g = q.weight.data() + (static_cast<std::size_t>(o) * C + c) * 9;
      int gt[4][3];  // G' g
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 3; ++k) gt[i][k] = G[i][0] * g[k] + G[i][1] * g[3 + k] + G[i][2] * g[6 + k];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          const int u = gt[i][0] * G[j][0] + gt[i][1] * G[j][1] + gt[i][2] * G[j][2];  // (G' g G'^T)[i][j]
          const std::size_t at = ((static_cast<std::size_t>(o / width) * 16 + 4 * i + j) * pairs + c / 2) * width * 2 +
                                 static_cast<std::size_t>(o % width) * 2 + c % 2;
          conv.winograd[at] = static_cast<int16_t>(u);
        }
    }
}

uint8_t* winograd_scratch(std::size_t bytes) {
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  thread_local std::unique_ptr<uint8_t, Free> buffer;
  thread_local std::size_t size = 0;
  if (bytes > size) {
    buffer.reset(static_cast<uint8_t*>(::operator new(bytes, std::align_val_t{64})));
    size = bytes;
  }
  return buffer.get();
}

}  // namespace squeezenet::x86::int8
