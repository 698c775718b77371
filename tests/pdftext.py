"""What a PDF page shows, read back with pdfminer.six: its lines of text, as drawn.

Each line is the glyphs on one baseline in the order they stand on the page, left to right
(so right-to-left text reads reversed here, as it is drawn), with where the line starts and
ends (from the advance widths the PDF gives its fonts' glyphs) and the fonts it uses.

A glyph reads as the text its font's ToUnicode map gives it. Glyphs inside a marked-content
span with /ActualText (PDF 1.5, 14.9.4: what Acrobat and poppler's pdftotext copy and search)
read together as that text instead, in `text`: shaped scripts draw a vowel sign before the
consonant it follows, or one glyph for three letters, and say so. `glyphs` keeps each glyph's
own reading, as a reader that ignores /ActualText would see it."""

import io
import re
from collections import defaultdict
from dataclasses import dataclass

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.utils import decode_text


@dataclass(frozen=True)
class Glyph:
    text: str  # its ToUnicode text ("" for a glyph that has none)
    x0: float  # where it is drawn (its origin)
    x1: float  # x0 + its advance width, as the PDF's font gives it
    size: float
    font: str
    span: int | None  # the /ActualText span it is drawn in, if any


@dataclass(frozen=True)
class Printed:
    text: str
    baseline: float
    x0: float
    x1: float
    fonts: frozenset  # the fonts' names, as the PDF gives them
    glyphs: tuple = ()  # Glyph, left to right


class _Reader(PDFPageAggregator):
    """pdfminer's page aggregator, remembering the /ActualText span each glyph is drawn in."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spans = []  # the ActualText of span n
        self.open = []  # nested marked content: span number or None

    def begin_tag(self, tag, props=None):
        actual = props.get("ActualText") if isinstance(props, dict) else None
        if actual is not None:
            self.spans.append(decode_text(actual) if isinstance(actual, bytes) else str(actual))
            self.open.append(len(self.spans) - 1)
        else:
            self.open.append(None)

    def end_tag(self):
        if self.open:
            self.open.pop()

    def render_char(self, *args, **kwargs):
        advance = super().render_char(*args, **kwargs)
        glyph = self.cur_item._objs[-1]
        glyph.actual_text_span = next((span for span in reversed(self.open) if span is not None), None)
        return advance


def _text_of(glyph):
    text = glyph.get_text()
    return "" if re.fullmatch(r"\(cid:\d+\)", text) else text  # pdfminer's stand-in for a glyph without text


def printed_lines(pdf):
    """The page's lines of text, top to bottom."""
    resources = PDFResourceManager()
    reader = _Reader(resources, laparams=None)
    interpreter = PDFPageInterpreter(resources, reader)
    (page,) = PDFPage.get_pages(io.BytesIO(pdf))
    interpreter.process_page(page)
    rows = defaultdict(list)
    for glyph in reader.get_result():
        if isinstance(glyph, LTChar):
            rows[round(glyph.matrix[5], 2)].append(glyph)  # the text matrix's y: the baseline (without rise)
    lines = []
    for baseline in sorted(rows, reverse=True):
        # Left to right; glyphs at one place (a mark drawn at its letter's origin), as drawn.
        glyphs = [glyph for _index, glyph in sorted(enumerate(rows[baseline]),
                                                    key=lambda item: (round(item[1].matrix[4], 2), item[0]))]
        drawn = tuple(Glyph(_text_of(glyph), glyph.x0, glyph.x1, glyph.size, glyph.fontname,
                            glyph.actual_text_span) for glyph in glyphs)
        text, seen = [], set()
        for glyph in drawn:
            if glyph.span is None:
                text.append(glyph.text)
            elif glyph.span not in seen:
                text.append(reader.spans[glyph.span])
                seen.add(glyph.span)
        lines.append(Printed("".join(text), baseline, min(glyph.x0 for glyph in glyphs),
                             max(glyph.x1 for glyph in glyphs), frozenset(glyph.font for glyph in drawn), drawn))
    return lines
