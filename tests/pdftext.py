"""What a PDF page shows, read back with pdfminer.six: its lines of text, as drawn.

Each line is the glyphs on one baseline in the order they stand on the page, left to right
(so right-to-left text reads reversed here, as it is drawn), with where the line starts and
ends (from the advance widths the PDF gives its fonts' glyphs) and the fonts it uses."""

import io
from collections import defaultdict
from dataclasses import dataclass

from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar


@dataclass(frozen=True)
class Printed:
    text: str
    baseline: float
    x0: float
    x1: float
    fonts: frozenset  # the fonts' names, as the PDF gives them


def _glyphs(item):
    if isinstance(item, LTChar):
        yield item
    elif hasattr(item, "__iter__"):
        for child in item:
            yield from _glyphs(child)


def printed_lines(pdf):
    """The page's lines of text, top to bottom."""
    (page,) = extract_pages(io.BytesIO(pdf), laparams=None)
    rows = defaultdict(list)
    for glyph in _glyphs(page):
        rows[round(glyph.matrix[5], 2)].append(glyph)  # the text matrix's y: the baseline
    lines = []
    for baseline in sorted(rows, reverse=True):
        glyphs = sorted(rows[baseline], key=lambda glyph: glyph.matrix[4])
        lines.append(Printed("".join(glyph.get_text() for glyph in glyphs), baseline,
                             min(glyph.x0 for glyph in glyphs), max(glyph.x1 for glyph in glyphs),
                             frozenset(glyph.fontname for glyph in glyphs)))
    return lines
