"""The ladder as vector graphics: a standalone SVG, an HTML page, a notebook cell.

The same rows as the terminal's (``ladder.plan_rows``), drawn to be
projected in a classroom: large type, dark strokes on white, and nothing
told by colour alone (the arrowhead gives the direction, a dashed line a
refusal or a loss), so a grey print reads the same. No external resource:
fonts are the generic ``monospace`` and ``sans-serif`` families, the
arrowheads markers defined in the document itself. Each packet is one
``<line class="arrow ...">`` between the lifelines, inside a ``<g
class="packet">`` whose ``<title>`` (a tooltip in a browser) holds its
tcpdump-like summary and meaning; each call's full text is in the
``<title>`` of its label.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from rich.cells import cell_len, set_cell_size

from sockviz.core import phrases
from sockviz.render.ladder import (
    Arrow,
    CallMark,
    Ladder,
    Row,
    Section,
    call_label,
    delta_text,
    plan_rows,
)

FONT = 17  # px: labels and calls, monospace
CHAR = FONT * 0.61  # the advance of one monospace character (DejaVu Sans Mono: 0.602 em)
SMALL = 15  # meanings, notes, states, Δt
SMALL_CHAR = SMALL * 0.61
MARGIN = 28
MONO = "monospace"
SANS = "sans-serif"
INK = "#111111"
GREY = "#4d4d4d"
LIFELINE = "#5a5a5a"
COLOURS = {"out": "#0b4f9c", "in": "#7a1f8c", "bad": "#b00020"}  # all dark on white
STATE_FILL = "#fff3c4"
STATE_INK = "#5c4300"
HEAD_FILL = "#eeeeee"
ROW_HEIGHT = {"arrow": 48, "blank": 28, "state": 30, "meaning": 21, "note": 21, "more": 30}
MAX_LABEL = 30  # characters of a call's label per line
MAX_ARROW = 60  # characters of an arrow's label
MIN_GAP = 30


def _x(text: str) -> str:
    """Text as XML character data: escaped, and no control character (XML 1.0 §2.2)."""
    clean = "".join(c if c >= " " or c in "\t\n" else "?" for c in str(text))
    return escape(clean)


def _a(text: str) -> str:
    clean = "".join(c if c >= " " else "?" for c in str(text))
    return quoteattr(clean)


@dataclass(frozen=True)
class _Cols:
    left: float  # px of the left call labels
    gap: float
    right: float
    left_chars: int
    right_chars: int
    gap_chars: int  # for the meanings' lines (small type)

    @property
    def x_left(self) -> float:
        return MARGIN + self.left

    @property
    def x_right(self) -> float:
        return self.x_left + self.gap

    @property
    def x_dt(self) -> float:  # right edge of the Δt column
        return self.x_right + (self.right + 20 if self.right else 0) + 104

    @property
    def width(self) -> float:
        return self.x_dt + MARGIN


def _columns(sections: list[Section]) -> _Cols:
    left_len = right_len = 0
    arrow_len = MIN_GAP
    head_len = 0
    for s in sections:
        head_len = max(head_len, cell_len(s.left.label), cell_len(s.left.title))
        for item in s.items:
            if type(item) is CallMark:
                n = sum(cell_len(t) for t, _ in call_label(item.call, item.ended))
                if item.side == "left":
                    left_len = max(left_len, n)
                else:
                    right_len = max(right_len, n)
            elif type(item) is Arrow:
                n = cell_len(item.label) + (1 + cell_len(item.extra) if item.extra else 0)
                arrow_len = max(arrow_len, min(MAX_ARROW, n))
    left_chars = max(12, min(MAX_LABEL, left_len))
    right_chars = min(MAX_LABEL, right_len) if right_len else 0
    left = max(left_chars * CHAR + 30, head_len * CHAR / 2 + 24)
    right = right_chars * CHAR + 30 if right_chars else 0
    gap = (arrow_len + 8) * CHAR
    return _Cols(left, gap, right, left_chars, right_chars, int((gap - 28) / (SMALL * 0.53)))


class _Canvas:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, s: str) -> None:
        self.parts.append(s)


def _text(x: float, y: float, segs, *, size: int = FONT, family: str = MONO, anchor: str = "start",
          weight: str | None = None, fill: str = INK, cls: str | None = None,
          title: str | None = None, italic: bool = False) -> str:
    attrs = [f'x="{x:.1f}"', f'y="{y:.1f}"', f'font-family="{family}"', f'font-size="{size}"',
             f'fill="{fill}"']
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if weight:
        attrs.append(f'font-weight="{weight}"')
    if italic:
        attrs.append('font-style="italic"')
    if cls:
        attrs.append(f'class="{cls}"')
    body = f"<title>{_x(title)}</title>" if title else ""
    if isinstance(segs, str):
        body += _x(segs)
    else:
        for t, style in segs:
            body += _tspan(t, style)
    return f"<text {' '.join(attrs)} xml:space=\"preserve\">{body}</text>"


SEG_STYLE = {
    "call": ' font-weight="bold"',
    "result": ' fill="#1b5e20"',
    "error": f' font-weight="bold" fill="{COLOURS["bad"]}"',
    "dim": f' fill="{GREY}"',
    "plain": "",
    "label": ' font-weight="bold"',
    "extra": f' fill="{GREY}"',
}


def _tspan(text: str, style: str) -> str:
    return f"<tspan{SEG_STYLE.get(style, '')}>{_x(text)}</tspan>"


def _call_title(call) -> str:
    if call is None:
        return ""
    if call.error:
        out = phrases.svg_call_raised(call.text, call.error)
    elif call.end is None:
        out = phrases.svg_call_unfinished(call.text)
    else:
        out = f"{call.text} → {call.result_text if call.result_text is not None else 'None'}"
    return out


def _anchor(row: Row, top: float) -> float:
    """The y of a row's line: its arrow, or the middle of its text."""
    if row.kind == "arrow":
        return top + 33
    return top + ROW_HEIGHT[row.kind] / 2


def _draw_section(c: _Canvas, s: Section, cols: _Cols, y: float, *, meanings: bool,
                  notes: bool) -> float:
    rows = plan_rows(s, left_width=cols.left_chars, right_width=cols.right_chars or 1,
                     gap_width=cols.gap_chars, meanings=meanings, notes=notes)
    c.add(f'<g class="section" data-conversation="{s.number if s.number is not None else ""}">')
    c.add(_text(MARGIN, y + 26, s.heading, size=21, family=SANS, weight="bold", cls="heading"))
    y += 46
    head_h = 52
    xl, xr = cols.x_left, cols.x_right
    for x, lane, cls in ((xl, s.left, "head left"), (xr, s.right, "head right")):
        w = max(cell_len(lane.label) * CHAR, cell_len(lane.title) * 18 * 0.6) + 28
        c.add(f'<g class="{cls}"><rect x="{x - w / 2:.1f}" y="{y:.1f}" width="{w:.1f}" '
              f'height="{head_h}" rx="6" fill="{HEAD_FILL}" stroke="{INK}" stroke-width="1.5"/>')
        c.add(_text(x, y + 21, lane.title, size=18, family=SANS, anchor="middle", weight="bold"))
        c.add(_text(x, y + 42, lane.label, anchor="middle") + "</g>")
    y += head_h
    life_top = y
    y += 10
    tops = []
    for row in rows:
        tops.append(y)
        y += ROW_HEIGHT[row.kind]
    bottom = y + 14
    for x in (xl, xr):
        c.add(f'<line class="lifeline" x1="{x:.1f}" y1="{life_top:.1f}" x2="{x:.1f}" '
              f'y2="{bottom:.1f}" stroke="{LIFELINE}" stroke-width="2"/>')
    _brackets(c, rows, tops, cols)
    _call_labels(c, rows, tops, cols)
    for row, top in zip(rows, tops, strict=True):
        mid = _anchor(row, top)
        if row.kind == "arrow":
            _arrow(c, row.arrow, cols, top)
        elif row.kind == "state":
            _states(c, row.states, cols, mid)
        elif row.kind in ("meaning", "note", "more"):
            c.add(_text(xl + 14, mid + 5, row.text, size=SMALL, family=SANS, fill=GREY,
                        italic=row.kind != "more", cls=row.kind))
    c.add("</g>")
    return bottom


LINE = 20  # px between the lines of a call's label


def _call_labels(c: _Canvas, rows: list[Row], tops: list[float], cols: _Cols) -> None:
    """Each call's label as one block of lines, from the row where the call starts."""
    for side, x in (("left", MARGIN), ("right", cols.x_right + 28)):
        block: list = []
        first = None
        call = None
        for row, top in [*zip(rows, tops, strict=True), (None, 0.0)]:
            segs = getattr(row, side) if row is not None else None
            owner = getattr(row, f"{side}_call") if row is not None else None
            if block and (segs is None or owner is not call):
                _label_block(c, x, _anchor(*first) + 6, block, call, side)
                block = []
            if segs:
                if not block:
                    first, call = (row, top), owner
                block.append(segs)


def _label_block(c: _Canvas, x: float, y: float, lines: list, call, side: str) -> None:
    body = f"<title>{_x(_call_title(call))}</title>"
    for k, segs in enumerate(lines):
        body += f'<tspan x="{x:.1f}" dy="{LINE if k else 0}">'
        body += "".join(_tspan(t, style) for t, style in segs) + "</tspan>"
    c.add(f'<text class="call {side}" x="{x:.1f}" y="{y:.1f}" font-family="{MONO}" '
          f'font-size="{FONT}" fill="{INK}" xml:space="preserve">{body}</text>')


def _brackets(c: _Canvas, rows: list[Row], tops: list[float], cols: _Cols) -> None:
    """Each call's bracket, from its first row to its last, beside its lifeline."""
    for side, x, tick in (("left", cols.x_left - 14, -8), ("right", cols.x_right + 14, 8)):
        start = None
        for row, top in zip(rows, tops, strict=True):
            role = getattr(row, f"{side}_bracket")
            if role in ("top", "single"):
                start = _anchor(row, top) - 14
            if role in ("bottom", "single") and start is not None:
                end = _anchor(row, top) + 12
                c.add(f'<path class="bracket" d="M{x + tick:.1f},{start:.1f} H{x:.1f} V{end:.1f} '
                      f'H{x + tick:.1f}" fill="none" stroke="{INK}" stroke-width="2"/>')
                start = None


def _arrow(c: _Canvas, a: Arrow, cols: _Cols, top: float) -> None:
    e = a.entry
    kind = "bad" if a.error else ("out" if a.rightward else "in")
    colour = COLOURS[kind]
    y = top + 33
    x1, x2 = (cols.x_left, cols.x_right - 2) if a.rightward else (cols.x_right, cols.x_left + 2)
    title = e.summary + "\n" + a.meaning
    c.add(f'<g class="packet" data-index="{e.packet.index}"><title>{_x(title)}</title>')
    dash = ' stroke-dasharray="10 6"' if a.error else ""
    c.add(f'<line class="arrow {"out" if a.rightward else "in"}{" error" if a.error else ""}" '
          f'x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" stroke="{colour}" '
          f'stroke-width="2.5"{dash} marker-end="url(#head-{kind})"/>')
    label, extra = a.label, a.extra
    room = int((cols.gap - 24) / CHAR)
    if cell_len(label) > room:
        label = set_cell_size(label, room - 1) + "…"
        extra = ""
    elif extra and cell_len(label) + 1 + cell_len(extra) > room:
        extra = ""
    segs = [(label, "label")] + ([(" " + extra, "extra")] if extra else [])
    fill = colour if a.error else INK
    c.add(_text((cols.x_left + cols.x_right) / 2, y - 9, segs, anchor="middle", fill=fill,
                cls="label"))
    if a.dt is not None:
        c.add(_text(cols.x_dt, y + 5, delta_text(a.dt), size=SMALL, family=SANS, anchor="end",
                    fill=GREY, cls="dt"))
    c.add("</g>")


def _states(c: _Canvas, states, cols: _Cols, mid: float) -> None:
    for state, x, anchor in ((states[0], cols.x_left + 10, "start"),
                             (states[1], cols.x_right - 10, "end")):
        if not state:
            continue
        w = cell_len(state) * SMALL_CHAR + 14
        rx = x if anchor == "start" else x - w
        c.add(f'<g class="state"><rect x="{rx:.1f}" y="{mid - 11:.1f}" width="{w:.1f}" height="22" '
              f'rx="4" fill="{STATE_FILL}" stroke="{STATE_INK}" stroke-width="1"/>')
        c.add(_text(rx + 7, mid + 5, state, size=SMALL, fill=STATE_INK, weight="bold") + "</g>")


LEGEND_ITEMS = ("out", "in", "bad")  # the arrows' kinds, said by phrases.svg_key


def legend_text(sections: list[Section]) -> str:
    return phrases.svg_legend(any(s.has_right_calls for s in sections))


def _defs() -> str:
    out = ["<defs>"]
    for kind, colour in COLOURS.items():
        out.append(f'<marker id="head-{kind}" viewBox="0 0 12 10" refX="11" refY="5" '
                   f'markerWidth="12" markerHeight="10" markerUnits="userSpaceOnUse" '
                   f'orient="auto"><path d="M0,0 L12,5 L0,10 z" fill="{colour}"/></marker>')
    out.append("</defs>")
    return "".join(out)


def svg_element(ladder: Ladder, *, title: str | None = None, legend: bool = True) -> str:
    """The ``<svg>`` element of the ladder (no XML declaration)."""
    sections = ladder.sections
    cols = _columns(sections)
    c = _Canvas()
    y = MARGIN
    if title:
        c.add(_text(MARGIN, y + 24, title, size=24, family=SANS, weight="bold", cls="title"))
        y += 44
    if not sections:
        c.add(_text(MARGIN, y + 24, phrases.ladder_nothing(), family=SANS, fill=GREY))
        y += 40
    for k, s in enumerate(sections):
        if k:
            y += 30
        y = _draw_section(c, s, cols, y, meanings=ladder.meanings, notes=ladder.notes)
    width = max(cols.width, MARGIN * 2 + max((cell_len(s.heading) * 21 * 0.55 for s in sections),
                                             default=0))
    if legend:
        y += 24
        y = _legend(c, y, width, legend_text(sections))
    height = y + MARGIN
    label = title or phrases.svg_label()
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-label={_a(label)}>'
            f"<title>{_x(label)}</title>{_defs()}"
            f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')
    return head + "".join(c.parts) + "</svg>"


def _legend(c: _Canvas, y: float, width: float, text: str) -> float:
    c.add('<g class="legend">')
    x = MARGIN
    for kind in LEGEND_ITEMS:
        words = phrases.svg_key(kind)
        dash = ' stroke-dasharray="10 6"' if kind == "bad" else ""
        x1, x2 = (x + 60, x) if kind == "in" else (x, x + 60)
        c.add(f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" '
              f'stroke="{COLOURS[kind]}" stroke-width="2.5"{dash} marker-end="url(#head-{kind})"/>')
        c.add(_text(x + 72, y + 5, words, size=SMALL, family=SANS, fill=INK))
        y += 24
    per_line = max(40, int((width - 2 * MARGIN) / (SMALL * 0.52)))
    words = text.split()
    line = ""
    for w in words:
        if line and len(line) + 1 + len(w) > per_line:
            c.add(_text(x, y + 5, line, size=SMALL, family=SANS, fill=GREY))
            y += 21
            line = w
        else:
            line = f"{line} {w}" if line else w
    if line:
        c.add(_text(x, y + 5, line, size=SMALL, family=SANS, fill=GREY))
        y += 21
    c.add("</g>")
    return y


def svg_document(ladder: Ladder, *, title: str | None = None) -> str:
    """A standalone SVG file's text."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg_element(ladder, title=title) + "\n"


CSS = """
body { margin: 24px; background: #ffffff; color: #111111; font-family: sans-serif; }
h1 { font-size: 28px; margin: 0 0 4px 0; }
p.what { color: #4d4d4d; margin: 0 0 16px 0; font-size: 17px; }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
section.legend { margin-top: 16px; font-size: 17px; max-width: 60em; }
section.legend h2 { font-size: 20px; margin: 0 0 8px 0; }
section.legend li { margin: 4px 0; }
svg.key { vertical-align: middle; margin-right: 0.8em; }
"""


def _key(kind: str) -> str:
    """A legend's sample arrow, as a small inline SVG of its own."""
    colour = COLOURS[kind]
    dash = ' stroke-dasharray="8 5"' if kind == "bad" else ""
    line, head = ("14", "M0,8 L14,2 L14,14 z") if kind == "in" else ("0", "M56,8 L42,2 L42,14 z")
    x2 = "56" if kind == "in" else "42"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="key" width="60" height="16" '
            f'viewBox="0 0 60 16"><line x1="{line}" y1="8" x2="{x2}" y2="8" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/><path d="{head}" fill="{colour}"/></svg>')


def html_document(ladder: Ladder, *, title: str | None = None) -> str:
    """One standalone page: the title, the SVG, and a legend (valid XHTML, so valid XML)."""
    heading = title or phrases.html_heading()
    sections = ladder.sections
    packets = sum(s.packets for s in sections)
    calls = sum(1 for s in sections for i in s.items
                if type(i) is CallMark and i.edge == "start" and not i.again)
    what = phrases.html_what(len(sections), packets, calls)
    keys = "".join(f"<li>{_key(kind)}{_x(phrases.svg_key(kind))}</li>" for kind in LEGEND_ITEMS)
    lang = phrases.current_language()
    return (
        '<!DOCTYPE html>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml" lang="{lang}" xml:lang="{lang}">\n<head>\n'
        '<meta charset="utf-8"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f"<title>{_x(heading)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_x(heading)}</h1>\n<p class=\"what\">{_x(what)}</p>\n"
        f"<figure>{svg_element(ladder, legend=False)}</figure>\n"
        f'<section class="legend"><h2>{_x(phrases.html_how_to_read())}</h2><ul>'
        f"{keys}<li>{_x(legend_text(sections))}</li>"
        f"<li>{_x(phrases.html_hover())}</li>"
        "</ul></section>\n</body>\n</html>\n"
    )


def notebook_html(ladder: Ladder) -> str:
    """For a notebook cell: the SVG in a scrolling box."""
    return f'<div style="overflow-x:auto;background:#ffffff">{svg_element(ladder)}</div>'
