#pragma once
// int8 Winograd F(2x2, 3x3) for the 3x3 expands (stride 1, pad 1, input zero point 0), exact in integers. With
// G scaled by 2 (G' = [2 0 0; 1 1 1; 1 -1 1; 0 0 2]) the weights transform to integers of at most 9 x 127 = 1143 in
// magnitude, B^T d B of u8 inputs to at most 4 x 255 = 1020, so both fit s16 and vpmaddwd sums their products over
// channel pairs in int32; the output transform then gives 4 x the direct conv's sums (at most 9 x 1143 x 1020 per
// input channel: int32 holds 128 of them), which an arithmetic shift divides exactly. Every output is the direct
// conv's bits, with 2.25x fewer multiplications: on AVX2 without VNNI, where vpmaddwd multiplies as many pairs a
// cycle as the direct conv's vpmaddubsw + vpmaddwd, that is the whole gain.
#include <cstddef>
#include <cstdint>

#include "kernels/x86/int8_table.h"

namespace squeezenet::x86::int8 {

constexpr int kWinogradMaxChannels = 128;
bool winograd_fits(const QuantizedConv& conv);  // 3x3, stride 1, pad 1, zero point 0, at most 128 input channels, int8
// Fills conv.winograd from the conv's weights, for 2-block groups of `lanes` output channels (padded with zeros).
void pack_winograd(const QuantizedConv& q, int lanes, PackedConv& conv);
// This thread's scratch of at least `bytes`, 64-byte aligned, kept for the thread's next call.
uint8_t* winograd_scratch(std::size_t bytes);
// KernelTable::winograd3x3 of the AVX2 family (needs AVX2; lanes 8, groups of 2 blocks).
void winograd3x3_avx2(const PackedConv& conv, const ConvIO& io, int64_t first_row, int64_t last_row);

}  // namespace squeezenet::x86::int8
