"""One HTML renderer for every report page: Markdown through markdown-it-py, the page through a Jinja2 template.

Pages are self-contained (CSS inline, figures embedded as base64 PNG) so a report can be mailed or printed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 1180px; margin: 2em auto; padding: 0 1.2em;
       color: #1a1a1a; line-height: 1.45; }
h1, h2, h3 { font-family: 'Helvetica Neue', Arial, sans-serif; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.meta { color: #555; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; margin-right: 0.4em;
          vertical-align: -0.1em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-family: 'Helvetica Neue', Arial, sans-serif; font-size: 0.82em; }
th, td { border: 1px solid #ccc; padding: 0.35em 0.5em; text-align: right; vertical-align: top; }
th { background: #f2f2f2; text-align: center; }
td.name, th.name { text-align: left; white-space: nowrap; font-weight: bold; }
td.best { font-weight: bold; background: #fff6d5; }
td.better { background: #e3f4e8; } td.worse { background: #fbe3e0; } td.reference { color: #777; }
td.na { color: #888; font-style: italic; }
td.best.better { background: #d3efdb; }
.note { font-size: 0.85em; color: #444; max-width: 70em; }
.warn { background: #fff3e0; border-left: 4px solid #E69F00; padding: 0.4em 0.8em; }
figure { margin: 1.2em 0; page-break-inside: avoid; } figure img { width: 100%; height: auto; }
img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; }
ul.reading li { margin-bottom: 0.4em; }
dl dt { font-weight: bold; margin-top: 0.5em; } dl dd { margin-left: 1.2em; }
@media print { body { max-width: none; margin: 0; } h2 { page-break-after: avoid; } table { font-size: 0.7em; } }
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{{ css }}</style></head>
<body>
<h1>{{ title }}</h1>
{% if subtitle %}<p class="meta">{{ subtitle }}</p>{% endif %}
{% for block in blocks %}{{ block }}
{% endfor %}
</body></html>
"""

_MD = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_PAGE = _ENV.from_string(PAGE)


def markdown(text: str) -> Markup:
    """A Markdown block (paragraphs, lists, tables, headings) as safe HTML; raw HTML in the text is escaped."""
    return Markup(_MD.render(text))


def inline(text: str) -> Markup:
    """One line of Markdown (**bold**, `code`) as safe HTML without a surrounding paragraph."""
    return Markup(_MD.renderInline(text))


def raw(html_text: str) -> Markup:
    """HTML built by this package's own writers (e.g. `Table.html`), marked safe."""
    return Markup(html_text)


def data_uri(path: str | Path) -> str:
    """A PNG file as a data: URI, so the page needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def embed(html_text: str, images: dict[str, Path]) -> str:
    """HTML whose <img src> names local files (keys of `images`) with the files embedded as data: URIs."""
    for src, path in images.items():
        uri = data_uri(path)
        html_text = html_text.replace(f'src="{src}"', f'src="{uri}"').replace(f"src='{src}'", f"src='{uri}'")
    return html_text


@dataclass(frozen=True)
class Figure:
    """A figure on a page: the PNG file and its caption."""

    path: Path
    caption: str

    def html(self) -> Markup:
        """<figure> with the PNG embedded as base64."""
        return Markup(_ENV.from_string(
            "<figure><img alt='{{ c }}' src='{{ d }}'><figcaption>{{ c }}</figcaption></figure>"
        ).render(c=self.caption, d=data_uri(self.path)))


def page(title: str, blocks: Iterable[Markup | str], subtitle: str = "", css: str = CSS) -> str:
    """A whole self-contained HTML page; plain `str` blocks are escaped, Markup blocks go in as they are."""
    return _PAGE.render(title=title, subtitle=subtitle, blocks=list(blocks), css=Markup(css))


def heading(level: int, text: str, swatch: str | None = None) -> Markup:
    """<hN> with inline Markdown and an optional colour swatch."""
    sw = Markup("<span class='swatch' style='background:{}'></span>").format(swatch) if swatch else ""
    return Markup("<h{0}>{1}{2}</h{0}>").format(level, sw, inline(text))


def bullets(items: Iterable[str], css_class: str = "") -> Markup:
    """<ul> of inline-Markdown items."""
    cls = Markup(" class='{}'").format(css_class) if css_class else ""
    return Markup("<ul{}>").format(cls) + Markup("").join(Markup("<li>{}</li>").format(inline(i)) for i in items) \
        + Markup("</ul>")


def paragraph(text: str, css_class: str = "") -> Markup:
    """<p> of inline Markdown."""
    cls = Markup(" class='{}'").format(css_class) if css_class else ""
    return Markup("<p{}>{}</p>").format(cls, inline(text))


def markdown_page(md: str, title: str, images: dict[str, Path] | None = None) -> str:
    """A Markdown document (its own '# title' line dropped if it repeats `title`) as a whole page; images it
    names by file (keys of `images`) are embedded and wide tables scroll."""
    lines = md.splitlines()
    if lines and lines[0].lstrip("# ").strip() == title.strip():
        lines = lines[1:]
    body = embed(str(markdown("\n".join(lines))), images or {})
    body = body.replace("<table>", "<div class='scroll'><table>").replace("</table>", "</table></div>")
    return page(title, [raw(body)])
