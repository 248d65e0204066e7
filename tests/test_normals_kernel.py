"""The kernels' standard normals stepped in registers (`kernels._normals`) against numpy's: the same draws, tails and
wedges included, and the stream left where numpy leaves it."""

from __future__ import annotations

import numpy as np
import pytest

from culturedrift.model import compiled, kernels


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.Philox])
def test_normals_are_numpys_draws_in_chunks(bit_generator: type) -> None:
    n = 200_000  # ~50 draws from the tail, ~1,400 through a wedge
    drawn, numpys = np.random.Generator(bit_generator(7)), np.random.Generator(bit_generator(7))
    table = compiled.stream_table(drawn)
    assert table[0, 4] == (1 if bit_generator is np.random.PCG64 else 0)  # stepped here, or through numpy's C
    out = np.empty(n)
    lo = 0
    for size in (0, 1, 5, 512, 100_000):  # the state carried from one call to the next
        kernels._normals(table, 0, out[lo:], size)
        lo += size
    kernels._normals(table, 0, out[lo:], n - lo)
    want = numpys.standard_normal(n)
    assert np.abs(want).max() > 3.6541528853610088  # the tail was drawn from
    assert out.tobytes() == want.tobytes()
    assert str(drawn.bit_generator.state) == str(numpys.bit_generator.state)


def test_normals_from_a_table_of_four_columns_go_through_numpys_generator() -> None:
    drawn, numpys = np.random.default_rng(3), np.random.default_rng(3)
    table = compiled.stream_table(drawn)[:, :4].copy()  # no column saying the state may be stepped here
    out = np.empty(1_000)
    kernels._normals(table, 0, out, out.size)
    assert out.tobytes() == numpys.standard_normal(out.size).tobytes()
    assert str(drawn.bit_generator.state) == str(numpys.bit_generator.state)
