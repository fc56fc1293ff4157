"""The report as a document built twice at once: HTML (self-contained, escaped) and Markdown
(escaped so that outcome texts stay text). :mod:`bayes_utility.reporting.report` decides what is
said; this module only how it is written.
"""
from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass

import pandas as pd

GAP_MARK = "…"  # a table row whose first cell starts with it spans the table ("… n more …")


@dataclass
class Image:
    name: str  # file name in report_assets/
    caption: str
    png: bytes


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
.verdict{padding:.8em 1em;border-radius:6px;margin:1em 0;white-space:pre-wrap;font-family:ui-monospace,monospace;
font-size:.9em}
.pass{background:#e8f5e9;border-left:6px solid #2e7d32} .fail{background:#ffebee;border-left:6px solid #c62828}
.approx{background:#fff8e1;border-left:6px solid #f9a825}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em;display:block;max-width:100%;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;overflow-wrap:anywhere}
th{background:#f5f5f5} td.num{text-align:right;font-variant-numeric:tabular-nums} tr.gap td{color:#777;
font-style:italic;text-align:center}
@media (max-width:600px){body{margin:1em auto;padding:0 .5em} th,td{padding:.2em .3em} table{font-size:.8em}}
figure{margin:1em 0} figure img{max-width:100%;border:1px solid #eee} figcaption{font-size:.85em;color:#555}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.8em}
.note{color:#555;font-size:.9em}
"""


def _md(text) -> str:
    """Text for Markdown that renders as the text itself: HTML escaped (an outcome's
    ``<script>`` stays text) and Markdown's own markup characters backslash-escaped (no
    links, images or emphasis smuggled in through outcome texts or labels)."""
    text = html.escape(str(text), quote=False).replace("\n", " ")
    return re.sub(r"([\\`*_\[\]#|~])", r"\\\1", text)


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


class Doc:
    """Builds the HTML and the Markdown side by side."""

    def __init__(self):
        self.html: list[str] = []
        self.md: list[str] = []

    def heading(self, text: str, level: int = 2):
        self.html.append(f"<h{level}>{html.escape(text)}</h{level}>")
        self.md.append("#" * level + " " + _md(text) + "\n")

    def para(self, text: str, cls: str = ""):
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<p{c}>{html.escape(text)}</p>")
        self.md.append(_md(text) + "\n")

    def verdict(self, text: str, cls: str):
        self.html.append(f'<div class="verdict {cls}">{html.escape(text)}</div>')
        f = _fence(text)
        self.md.append(f"{f}\n{text}\n{f}\n")

    def table(self, df: pd.DataFrame, numeric: tuple[str, ...] = ()):
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
        body = []
        for row in df.itertuples(index=False):
            if str(row[0]).startswith(GAP_MARK):  # "... n more ...": one cell across the table
                body.append(f'<tr class="gap"><td colspan="{len(df.columns)}">{html.escape(str(row[0]))}</td></tr>')
                continue
            cells = "".join(
                f'<td class="num">{html.escape(str(v))}</td>' if c in numeric else f"<td>{html.escape(str(v))}</td>"
                for c, v in zip(df.columns, row))
            body.append(f"<tr>{cells}</tr>")
        self.html.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        esc = [_md(c) for c in df.columns]
        lines = ["| " + " | ".join(esc) + " |", "|" + "---|" * len(esc)]
        for row in df.itertuples(index=False):
            lines.append("| " + " | ".join(_md(v) for v in row) + " |")
        self.md.append("\n".join(lines) + "\n")

    def links(self, lead: str, targets: list[tuple[str, str]]):
        """A line of links to files: ``(label, relative href)``."""
        self.html.append(f'<p class="note">{html.escape(lead)} ' + ", ".join(
            f'<a href="{html.escape(href)}">{html.escape(label)}</a>' for label, href in targets) + "</p>")
        self.md.append(_md(lead) + " " + ", ".join(f"[{_md(label)}](<{href}>)" for label, href in targets) + "\n")

    def image(self, img: Image, assets: str):
        data = base64.b64encode(img.png).decode()
        self.html.append(f'<figure><img alt="{html.escape(img.caption)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{html.escape(img.caption)}</figcaption></figure>")
        self.md.append(f"![{_md(img.caption)}]({assets}/{img.name})\n\n*{_md(img.caption)}*\n")

    def page(self, title: str) -> str:
        """The whole HTML page: self-contained, laid out for screens down to phone width."""
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
                + "\n".join(self.html) + "\n</body></html>\n")

    def pre(self, text: str):
        self.html.append(f"<pre>{html.escape(text)}</pre>")
        f = _fence(text)
        self.md.append(f"{f}\n{text.rstrip()}\n{f}\n")
