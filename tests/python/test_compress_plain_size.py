"""scripts/compress_plain_size.py: the per-stage plot's size without entropy coding."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from compress_plain_size import plain_bits  # noqa: E402


def test_shared_pruned_weights_cost_a_bitmask_fixed_width_codes_and_a_codebook():
    w = np.zeros(100, np.float32)
    w[:10] = [0.5, -0.25, 0.125] * 3 + [0.5]  # 3 distinct values: codes 1-3 beside the pruned 0, 2 bits
    assert plain_bits("features.3.squeeze.weight", w) == 100 + 10 * 2 + 3 * 16


def test_dense_shared_weights_have_no_bitmask():
    w = np.tile(np.array([1.0, 2.0, 3.0, 4.0], np.float32), 25)  # 4 values and no zero: 3 bits
    assert plain_bits("classifier.1.weight", w) == 100 * 3 + 4 * 16


def test_unshared_values_are_float16_where_exact_else_float32():
    exact = np.linspace(-1, 1, 300).astype(np.float16).astype(np.float32)
    exact[0] = 0  # one pruned position: the bitmask appears
    assert plain_bits("features.0.weight", exact) == 300 + 299 * 16
    inexact = np.linspace(-1, 1, 300, dtype=np.float32) + np.float32(1e-4)
    assert plain_bits("features.0.weight", inexact) == 300 * 32


def test_biases_have_neither_bitmask_nor_codebook():
    assert plain_bits("features.0.bias", np.array([0.0, 0.5, 1.5], np.float32)) == 3 * 16
    assert plain_bits("features.0.bias", np.array([0.1, 0.0], np.float32)) == 2 * 32
