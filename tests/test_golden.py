"""Outputs stay bit-identical across refactors: every series, event and summary of the shipped scenarios."""

from __future__ import annotations

import json
import math

from tests.golden.fingerprint import GOLDEN, fingerprints


def test_outputs_match_golden_fingerprints() -> None:
    expected = json.loads(GOLDEN.read_text())
    got = fingerprints()
    assert sorted(got) == sorted(expected)
    diffs = []
    for run, parts in expected.items():
        for part, cols in parts.items():
            for col, want in cols.items():
                have = got[run][part].get(col)
                if have is None:
                    diffs.append(f"{run} {part}.{col}: missing")
                elif part == "summary":
                    if not (have == want or (math.isnan(have) and math.isnan(want))):
                        diffs.append(f"{run} summary.{col}: {want!r} -> {have!r}")
                elif have["sha"] != want["sha"]:
                    diffs.append(f"{run} {part}.{col}: sum {want['sum']} -> {have['sum']}")
            extra = set(got[run][part]) - set(cols)
            diffs += [f"{run} {part}.{c}: new column (regenerate the fingerprints if intended)" for c in sorted(extra)]
    assert not diffs, "outputs changed (regenerate with `python tests/golden/fingerprint.py --write` only for a "  \
        "documented fix):\n" + "\n".join(diffs[:40])
