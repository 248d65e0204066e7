"""One table writer: the same rows as Markdown, console text, HTML or CSV, so every output says the same thing.

Cells carry their text plus what the reader should notice (best in column, clearly better or worse than the
reference, not applicable); each format shows that in its own way. Console headers wrap over lines instead
of being cut.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

BEST = "\u2605"  # star: best value in its column
CLEAR_BETTER = "\u2713"  # check mark: clearly better than the reference
CLEAR_WORSE = "\u2717"  # ballot x: clearly worse than the reference


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and what is notable about it."""

    text: str
    best: bool = False
    verdict: str | None = None  # "better" / "worse" / "unclear" / "reference" / "n/a" (difference cells)

    def marked(self) -> str:
        """Text with its marks (check / cross for verdicts, star for best)."""
        text = self.text
        if self.verdict == "better":
            text += f" {CLEAR_BETTER}"
        elif self.verdict == "worse":
            text += f" {CLEAR_WORSE}"
        return text + (f" {BEST}" if self.best else "")


@dataclass
class Table:
    """Rows of cells under headers, with a row-label column (e.g. the strategy)."""

    headers: list[str]
    rows: list[tuple[str, list[Cell]]]
    label_header: str = "Strategy"
    swatches: dict[str, str] = field(default_factory=dict)  # row label -> colour (HTML)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, digits: int = 3, label: str | None = None) -> Table:
        """A DataFrame as a table: the first column (or `label`) labels rows; numbers to `digits` sig. figures."""
        label = label or str(df.columns[0])
        cols = [c for c in df.columns if c != label]
        rows = [(str(r[label]), [Cell(fmt_number(r[c], digits)) for c in cols]) for _, r in df.iterrows()]
        return cls(headers=[str(c) for c in cols], rows=rows, label_header=label)

    def markdown(self) -> str:
        """GitHub-flavoured Markdown (best cells in bold)."""
        def cell(c: Cell) -> str:
            text = c.marked().replace("|", "\\|")
            return f"**{c.text}**{text[len(c.text):]}" if c.best else text

        lines = ["| " + " | ".join([self.label_header, *self.headers]) + " |",
                 "|---|" + "---:|" * len(self.headers)]
        lines += [f"| {name.replace('|', chr(92) + '|')} | " + " | ".join(cell(c) for c in cells) + " |"
                  for name, cells in self.rows]
        return "\n".join(lines)

    def console(self, max_header: int = 16) -> str:
        """Plain text with aligned columns; long headers wrap onto more lines, never cut."""
        label_w = max([len(self.label_header), *(len(n) for n, _ in self.rows)])
        texts = [[c.marked() for c in cells] for _, cells in self.rows]
        widths = []
        wrapped = []
        for j, h in enumerate(self.headers):
            longest_word = max((len(w) for w in h.split()), default=0)
            w = max([min(max_header, len(h)), longest_word, *(len(t[j]) for t in texts)])
            widths.append(w)
            wrapped.append(textwrap.wrap(h, w) or [""])
        depth = max((len(w) for w in wrapped), default=1)
        lines = []
        for k in range(depth):
            head = [(w[k - (depth - len(w))] if k >= depth - len(w) else "") for w in wrapped]
            first = self.label_header if k == depth - 1 else ""
            lines.append(f"{first:<{label_w}}" + "".join(f"  {h:>{w}}" for h, w in zip(head, widths, strict=True)))
        for (name, _), t in zip(self.rows, texts, strict=True):
            lines.append(f"{name:<{label_w}}" + "".join(f"  {x:>{w}}" for x, w in zip(t, widths, strict=True)))
        return "\n".join(lines)

    def html(self) -> str:
        """An HTML table; cells get classes best / better / worse / na / reference for the page's CSS."""
        out = ["<div class='scroll'><table><thead><tr>", f"<th class='name'>{html.escape(self.label_header)}</th>"]
        out += [f"<th>{html.escape(h)}</th>" for h in self.headers]
        out.append("</tr></thead><tbody>")
        for name, cells in self.rows:
            swatch = (f"<span class='swatch' style='background:{self.swatches[name]}'></span>"
                      if name in self.swatches else "")
            out.append(f"<tr><td class='name'>{swatch}{html.escape(name)}</td>")
            for c in cells:
                classes = ["best"] if c.best else []
                if c.verdict:
                    classes.append("na" if c.verdict == "n/a" else c.verdict)
                if c.text == "n/a":
                    classes.append("na")
                out.append(f"<td class='{' '.join(dict.fromkeys(classes))}'>{html.escape(c.marked())}</td>")
            out.append("</tr>")
        out.append("</tbody></table></div>")
        return "".join(out)

    def frame(self) -> pd.DataFrame:
        """The cell texts as a DataFrame (for CSV)."""
        return pd.DataFrame([[n, *(c.marked() for c in cells)] for n, cells in self.rows],
                            columns=[self.label_header, *self.headers])

    def to_csv(self, path: str | Path) -> Path:
        """Write the cell texts as CSV."""
        self.frame().to_csv(path, index=False)
        return Path(path)


def fmt_number(value: object, digits: int = 3, missing: str = "n/a") -> str:
    """A number to `digits` significant figures (integers as they are; NaN as `missing`); anything else as text."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if value is None:
        return ""
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return missing if math.isnan(value) else f"{float(value):.{digits}g}"
    return str(value)


def markdown_table(df: pd.DataFrame, digits: int = 3, missing: str = "") -> str:
    """A DataFrame as a Markdown table (all columns, numbers to `digits` significant figures, NaN as `missing`)."""
    cols: Sequence[str] = [str(c) for c in df.columns]
    rows = [[fmt_number(v, digits, missing) for v in r] for r in df.itertuples(index=False)]
    t = Table(headers=list(cols[1:]), rows=[(r[0], [Cell(x) for x in r[1:]]) for r in rows],
              label_header=cols[0])
    return t.markdown()
