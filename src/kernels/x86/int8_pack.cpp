#include <cpuid.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "kernels/dispatch.h"
#include "kernels/x86/int8_table.h"
#include "quant/epilogue.h"

namespace squeezenet::x86::int8 {

int64_t PackedConv::bytes() const {
  return static_cast<int64_t>(weight.size() + 2 * winograd.size() +
                              4 * (correction.size() + multiplier.size() + offset.size()));
}

PackedConv pack(const QuantizedConv& conv, int lanes, int group_blocks) {
  PackedConv p;
  const Conv2dSpec& s = conv.spec;
  p.out_channels = s.out_channels;
  p.in_channels = s.in_channels;
  p.quads = (s.in_channels + 3) / 4;
  p.kernel = s.kernel;
  p.stride = s.stride;
  p.lanes = lanes;
  p.group_blocks = group_blocks;
  p.blocks = (s.out_channels + lanes - 1) / lanes;
  const int K = s.kernel, C = s.in_channels, taps = K * K, padded = p.blocks * lanes;
  p.weight.assign(static_cast<std::size_t>(padded) * taps * p.quads * 4, 0);
  int8_t* w = p.weight.data();
  for (int b0 = 0; b0 < p.blocks; b0 += group_blocks) {
    const int width = std::min(group_blocks, p.blocks - b0) * lanes;
    for (int t = 0; t < taps; ++t)
      for (int q = 0; q < p.quads; ++q)
        for (int j = 0; j < width; ++j)
          for (int i = 0; i < 4; ++i, ++w) {
            const int o = b0 * lanes + j, c = 4 * q + i;
            if (o < s.out_channels && c < C) *w = conv.weight[static_cast<std::size_t>((o * C + c) * taps + t)];
          }
  }
  p.pairs_fit_16 = true;
  for (std::size_t i = 0; i < p.weight.size(); i += 2)
    p.pairs_fit_16 = p.pairs_fit_16 && std::abs(p.weight[i]) + std::abs(p.weight[i + 1]) <= kLaneWeightBudget;
  // Quad q's bytes are one group's width * 4 apart from quad q + 1's at the same output channel and byte.
  p.quad_pairs_fit_16 = p.pairs_fit_16;
  std::size_t at = 0;
  for (int b0 = 0; b0 < p.blocks; b0 += group_blocks) {
    const int quad = std::min(group_blocks, p.blocks - b0) * lanes * 4;
    for (int t = 0; t < taps; ++t, at += static_cast<std::size_t>(p.quads) * quad)
      for (int q = 0; q + 1 < p.quads; q += 2)
        for (int i = 0; i < quad; i += 2) {
          const int8_t* a = p.weight.data() + at + static_cast<std::size_t>(q * quad + i);
          p.quad_pairs_fit_16 = p.quad_pairs_fit_16 &&
                                std::abs(a[0]) + std::abs(a[1]) + std::abs(a[quad]) + std::abs(a[quad + 1]) <=
                                    kLaneWeightBudget;
        }
  }
  const quant::Epilogue e = quant::epilogue(conv);
  p.to_u8 = e.to_u8;
  p.correction.assign(static_cast<std::size_t>(padded), 0);
  p.multiplier.assign(static_cast<std::size_t>(padded), 0.0f);
  p.offset.assign(static_cast<std::size_t>(padded), 0.0f);
  for (int o = 0; o < s.out_channels; ++o) {
    int32_t sum = 0;
    for (int i = 0; i < C * taps; ++i) sum += conv.weight[static_cast<std::size_t>(o * C * taps + i)];
    p.correction[static_cast<std::size_t>(o)] = conv.input_zero_point * sum;
    p.multiplier[static_cast<std::size_t>(o)] = e.multiplier[static_cast<std::size_t>(o)];
    p.offset[static_cast<std::size_t>(o)] = e.offset[static_cast<std::size_t>(o)];
  }
  return p;
}

bool has_avx512_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool yes = kernels::has_avx512() && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  return yes;
#else
  return false;
#endif
}

bool has_avx_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  // CPUID leaf 7, sub-leaf 1, EAX bit 4: clang 14's __builtin_cpu_supports does not know "avxvnni".
  static const bool yes = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return kernels::has_avx2_fma() && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 4)) != 0;
  }();
  return yes;
#else
  return false;
#endif
}

std::vector<const KernelTable*> families_here() {
  const char* cap_env = std::getenv("SQUEEZENET_ISA");
  const std::string_view cap = cap_env ? cap_env : "";
  std::vector<const KernelTable*> out;
  if (has_avx512_vnni() && cap != "avx2" && cap != "avx-vnni") out.push_back(&int8_avx512_vnni_kernels);
  if (has_avx_vnni() && cap != "avx2") out.push_back(&int8_avx2_vnni_kernels);
  if (kernels::has_avx2_fma()) out.push_back(&int8_avx2_kernels);
  return out;
}

const KernelTable* fastest() {
  const std::vector<const KernelTable*> f = families_here();
  return f.empty() ? nullptr : f.front();
}

}  // namespace squeezenet::x86::int8
