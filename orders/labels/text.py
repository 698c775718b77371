"""Lines of label text: Arabic joined, right-to-left lines in visual order (Unicode's bidi
algorithm), every line wrapped to the printable width by measuring its runs in their fonts."""

import functools
import unicodedata

import arabic_reshaper
from arabic_reshaper.ligatures import LIGATURES
from bidi.algorithm import get_base_level, get_display
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.textobject import PDFTextObject

from orders.labels.fonts import SHAPED_FONTS, _cmap, _font_of, _invisible, _printable, _shape

WIDTH, HEIGHT = 4 * inch, 6 * inch
MARGIN = 0.25 * inch
TEXT_WIDTH = WIDTH - 2 * MARGIN  # every line of text fits in this


def _reshaper():
    """Arabic letters take their joined forms (initial, medial, final: Unicode's presentation
    forms, which DejaVu Sans draws). Only the ligatures the font has are made; harakat are kept."""
    cmap = _cmap("HarborSans")
    config = {"delete_harakat": False, "support_ligatures": True}
    for name, (_match, forms) in LIGATURES:
        config[name] = all(ord(c) in cmap for form in forms for c in form)
    return arabic_reshaper.ArabicReshaper(configuration=config)


@functools.cache
def _advance(char):
    """A character's advance at 1 pt, in a font that is not shaped (reportlab draws those without
    kerning, so widths add up)."""
    return 0 if _invisible(char) else pdfmetrics.stringWidth(char, _font_of(char), 1)


def _continues(font, char):
    """Whether `char` stays in a run of `font` that it follows: a mark or joiner after a letter
    of a shaped font is shaped with it, if the font has it (a Bengali letter's Vedic sign, which
    the Devanagari font would otherwise take; a zero-width joiner asking for a half form)."""
    return (font in SHAPED_FONTS and unicodedata.category(char) in ("Mn", "Mc", "Me", "Cf")
            and ord(char) in _cmap(font))


def _runs(text):
    """`text` (left to right) as the runs it is drawn in, [(font, text)]: each character in
    the first font that has it, marks and joiners of shaped scripts with their letter;
    invisible characters otherwise draw as nothing."""
    runs = []
    for char in text:
        if runs and _continues(runs[-1][0], char):
            runs[-1][1].append(char)
            continue
        if _invisible(char):
            continue
        font = _font_of(char)
        if runs and runs[-1][0] == font:
            runs[-1][1].append(char)
        else:
            runs.append((font, [char]))
    return [(font, "".join(chars)) for font, chars in runs]


def _run_width(font, text):
    """A run's advance at 1 pt: as harfbuzz places its glyphs, or the sum of its characters'."""
    return _shape(font, text).width if font in SHAPED_FONTS else sum(map(_advance, text))


def _width(text, size):
    return sum(_run_width(font, run) for font, run in _runs(text)) * size


def _is_wide(char):
    # Chinese, Japanese and Korean text may break between any two characters.
    return unicodedata.east_asian_width(char) in ("W", "F")


def _split(text):
    """Words, single wide characters and spaces: the places a line may break."""
    tokens, joinable = [], False
    for cluster in _clusters(text):
        if cluster == " ":
            tokens.append(cluster)
            joinable = False
        elif _is_wide(cluster[0]):
            tokens.append(cluster)
            joinable = False
        elif joinable:
            tokens[-1] += cluster
        else:
            tokens.append(cluster)
            joinable = True
    return tokens


def _is_mark(char):
    return unicodedata.category(char) in ("Mn", "Me", "Mc")


def _links(char):
    # A virama (halant, pulli) joins the next consonant into a conjunct; ZWJ and ZWNJ stand
    # between two letters of one syllable.
    return char in "\u200c\u200d" or (unicodedata.combining(char) == 9 and _is_mark(char))


def _clusters(text):
    """Base characters with their combining marks, and the consonants of one conjunct (a line
    never breaks inside one)."""
    clusters = []
    for char in text:
        if clusters and (_is_mark(char) or char in "\u200c\u200d"
                         or (_links(clusters[-1][-1]) and unicodedata.category(char).startswith("L"))):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _wrap(text, size, width=TEXT_WIDTH):
    """`text` (logical order) as lines no wider than `width` at `size`: broken at spaces, and
    anywhere inside a word that is wider than a line, or between CJK characters."""
    lines, line, used, spaced = [], "", 0.0, False
    space = _width(" ", size)
    for token in _split(text):
        if token == " ":
            spaced = bool(line)
            continue
        gap, token_width = (space if spaced else 0.0), _width(token, size)
        if used + gap + token_width <= width:
            line += (" " if spaced else "") + token
            used += gap + token_width
            spaced = False
            continue
        spaced = False
        if line:
            lines.append(line)
        line, used = "", 0.0
        # A token wider than the line: broken where it is full. Shaped text is measured as
        # the line it would make (a cluster's glyphs may depend on its neighbours).
        shaped = any(font in SHAPED_FONTS for font, _run in _runs(token))
        for cluster in _clusters(token):
            cluster_width = _width(line + cluster, size) - used if shaped else _width(cluster, size)
            if line and used + cluster_width > width:
                lines.append(line)
                line, used = "", 0.0
                cluster_width = _width(cluster, size)
            line, used = line + cluster, used + cluster_width
    if line:
        lines.append(line)
    return lines


def _visual(line, base):
    """A line in the order its glyphs are drawn, left to right: Unicode's bidi algorithm
    (python-bidi's, which also mirrors brackets in right-to-left text; `base` is the
    paragraph's direction, 'L' or 'R'). That algorithm leaves the combining marks of a
    right-to-left letter in front of it once reversed (rule L3 is optional); drawn so they
    would sit on the wrong letter, so they are put back behind it, in their logical order."""
    drawn, marks = [], []
    for char in get_display(line, base_dir=base):
        if _is_mark(char):
            marks.append(char)
            continue
        if marks and unicodedata.bidirectional(char) in ("R", "AL"):
            drawn += [char, *reversed(marks)]
        else:
            drawn += [*marks, char]
        marks = []
    return "".join(drawn + marks)


def _base_direction(text):
    """'R' if the first letter with a direction is right-to-left (Hebrew, Arabic), else 'L'."""
    return "R" if get_base_level(text) else "L"


class Line:
    """One printed line: its runs of text, each in the font that has its characters."""

    def __init__(self, visual, size, rtl):
        self.size, self.rtl = size, rtl
        self.runs = [(font, run, _run_width(font, run) * size) for font, run in _runs(visual)]  # [(font, text, width)]
        self.width = sum(width for _font, _text, width in self.runs)

    def draw(self, pdf, x, y):
        """Left-aligned at `x`, or right-aligned to the text's right edge if it reads right to left."""
        if self.rtl:
            x = MARGIN + TEXT_WIDTH - self.width
        text = _TextObject(pdf, x, y)
        for font, run, _width in self.runs:
            text.setFont(font, self.size)
            if font not in SHAPED_FONTS:
                text.textOut(run)
                continue
            text.begin_actual_text(run)
            text.textOut(_shape(font, run).glyphs)
            text.end_marked_content()
        pdf.drawText(text)


class _TextObject(PDFTextObject):
    """reportlab's text object (what canvas.beginText makes), with marked content, which it
    has no method for: /ActualText gives the text of glyphs that need not spell it in the order
    they stand (PDF 1.5, 14.9.4)."""

    def begin_actual_text(self, text):
        self._code.append(f"/Span <</ActualText <FEFF{text.encode('utf-16-be').hex().upper()}>>> BDC")

    def end_marked_content(self):
        self._code.append("EMC")


# Characters whose bidi class makes a line need the bidi algorithm (anything else reads left
# to right as it is; the algorithm would also drop the joiners shaping needs).
_BIDI_CLASSES = {"R", "AL", "AN", "RLE", "RLO", "LRE", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"}


def lay_out(text, size):
    """A logical line of text as the printed Lines that hold it, at `size`."""
    text = " ".join(str(text).split())  # tabs, newlines and runs of spaces as one space
    base = _base_direction(text)
    if any(unicodedata.bidirectional(c) == "AL" for c in text):
        text = _reshaper().reshape(text)
    text = "".join(_printable(c) for c in text)
    return [Line(_visual(piece, base) if base == "R" or any(unicodedata.bidirectional(c) in _BIDI_CLASSES
                                                             for c in piece) else piece,
                 size, base == "R") for piece in _wrap(text, size)]

