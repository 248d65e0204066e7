"""Morale's compiled step against its numpy update on random slots: the same bits and the same draws."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culturedrift.model import compiled, kernels
from culturedrift.model.mechanisms.morale import MoraleParams
from culturedrift.model.numerics import approach, drive_rates

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def inputs(seed: int, n: int) -> dict[str, np.ndarray]:
    """Random slots: scattered ties and vacancies, four change loads in turn, drives of both signs."""
    r = np.random.default_rng(seed)
    rs = np.where(r.random(n) < 0.2, 0.0, r.random(n) * 5)
    return {"mor": r.random(n), "nb": np.column_stack([rs * r.random(n), r.random(n), rs]),
            "base_row": np.where(r.random(n) < 0.2, 0.0, r.random(n) * 5),
            "change_load": r.choice([0.0, 0.04, 0.1, 0.25], n) * (r.random(n) < 0.9),
            "change_buffer": r.random(n) * 0.9 * (r.random(n) < 0.5), "workload": r.random(n) * 2,
            "direct_time": r.random(n) * 0.4, "case_holder": (r.random(n) < 0.7).astype(float),
            "staff": (r.random(n) < 0.8).astype(float), "leaver_exposure": r.random(n) * (r.random(n) < 0.5),
            "support": r.random(n) * 0.1 * (r.random(n) < 0.5)}


def reference(x: dict[str, np.ndarray], p: MoraleParams, ref_direct: float, rng: np.random.Generator) -> np.ndarray:
    """Morale.step's numpy update on these arrays."""
    nb, rowsum = x["nb"][:, 0], x["nb"][:, 2]
    mor = x["mor"].copy()
    has = rowsum > 1e-9
    peer = np.where(has, nb / np.where(has, rowsum, 1.0), mor)
    base_row = x["base_row"]
    frag = np.where(base_row > 1e-9, np.maximum(1.0 - rowsum / np.maximum(base_row, 1e-9), 0.0), 0.0)
    pressure = p.change_effect * (x["change_load"] / p.reference_change_load) ** p.change_fatigue
    pressure *= 1.0 - x["change_buffer"]
    pressure += p.workload_effect * np.maximum(x["workload"] - p.workload_threshold, 0.0)
    pressure -= p.direct_time_effect * (x["direct_time"] - ref_direct) * x["case_holder"]
    pressure += p.fragmentation_effect * frag * x["staff"]
    pressure += p.leaver_effect * x["leaver_exposure"]
    up, down = drive_rates(x["support"] - pressure, p.baseline)
    approach(mor, [p.recovery_rate, p.contagion_rate, up, down], [p.baseline, peer, 1.0, 0.0])
    mor += rng.normal(0.0, p.noise_sd, mor.size)
    np.clip(mor, 0.0, 1.0, out=mor)
    return mor


class Holder:
    """What compiled.record reads a parameter block from."""

    def __init__(self, pars: MoraleParams) -> None:
        self.pars = pars


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 2000), fatigue=st.sampled_from([1.0, 1.5, 2.0, 2.7]),
       baseline=st.floats(0.0, 1.0))
@SETTINGS
def test_morale_kernel_draws_and_computes_as_numpy(seed: int, n: int, fatigue: float, baseline: float) -> None:
    x = inputs(seed, n)
    p = MoraleParams(change_fatigue=fatigue, baseline=baseline, change_effect=0.01)
    want = reference(x, p, 0.25, np.random.default_rng(seed + 1))
    pars = compiled.record(Holder(p), compiled.MORALE)
    args = [x[k] for k in ("nb", "base_row", "change_load", "change_buffer", "workload", "direct_time",
                           "case_holder", "staff", "leaver_exposure", "support")]
    rng = np.random.default_rng(seed + 1)
    drawn = x["mor"].copy()
    kernels.morale_step(compiled.stream_table(rng), drawn, *args, np.zeros(0), 0.25, pars)
    given_z = x["mor"].copy()
    z = np.random.default_rng(seed + 1).standard_normal(n)
    kernels.morale_step(np.zeros((0, 4), np.uint64), given_z, *args, z, 0.25, pars)
    assert drawn.tobytes() == want.tobytes() == given_z.tobytes()
    after = np.random.default_rng(seed + 1)
    after.standard_normal(n)
    assert rng.bit_generator.state == after.bit_generator.state  # the stream left where numpy leaves it
