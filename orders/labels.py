"""The label renderer: a 4×6 in shipping label as PDF bytes (reportlab).

Every address the API accepts has to print, whatever its script, and nothing may run off the
label. So the text is drawn in fonts shipped with the repository (orders/fonts/: DejaVu Sans
for Latin, Greek, Cyrillic, Hebrew and Arabic; Droid Sans Fallback for Chinese, Japanese and
Korean), one font per run of characters it covers, and every line is wrapped to the printable
width by measuring it. docs/labels.md explains the rules.
"""

import functools
import io
import logging
import unicodedata
from pathlib import Path

import arabic_reshaper
from arabic_reshaper.ligatures import LIGATURES
from bidi.algorithm import get_base_level, get_display
from django.conf import settings
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from orders.addresses import address_lines

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 4 * inch, 6 * inch
MARGIN = 0.25 * inch
TEXT_WIDTH = WIDTH - 2 * MARGIN  # every line of text fits in this
BARCODE_HEIGHT = 0.9 * inch
BARCODE_TOP = MARGIN + 18 + BARCODE_HEIGHT  # the order's lines stop above it

ADDRESS_SIZE = 13  # the ship-to address, shrunk (never below MIN_ADDRESS_SIZE) until it fits
MIN_ADDRESS_SIZE = 5
SENDER_SIZE = 8
ITEM_SIZE = 8
LEADING = 1.25  # line pitch, in font sizes
RULE_GAP = 6  # between the address's last line (its descenders) and the rule below it
# The address's last baseline stays this high: below it come its descenders, the gap and the
# rule, the order's reference and at least one of its lines, all above the barcode.
ADDRESS_FLOOR = BARCODE_TOP + 4 + 12 + 12 + RULE_GAP

FONT_DIR = Path(__file__).with_name("fonts")
# In order of preference: a character is drawn in the first font that has it.
FONT_FILES = (("HarborSans", "DejaVuSans.ttf"), ("HarborCJK", "DroidSansFallback.ttf"))
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"  # for a character no font has (DejaVu Sans has this one)


@functools.cache
def _fonts():
    """[(name, cmap)], registered with reportlab once per process (parsing them takes ~60 ms)."""
    fonts = []
    for name, filename in FONT_FILES:
        font = TTFont(name, FONT_DIR / filename)
        pdfmetrics.registerFont(font)
        fonts.append((name, font.face.charToGlyph))
    return fonts


def _font_of(char):
    """The first font that has `char`, or None."""
    code = ord(char)
    for name, cmap in _fonts():
        if code in cmap:
            return name
    return None


def _invisible(char):
    # Format characters (bidi marks, joiners, soft hyphens) steer the bidi algorithm and Arabic
    # joining, then draw as nothing.
    return unicodedata.category(char) == "Cf"


@functools.cache
def _printable(char):
    """`char` as it will be drawn: itself if a font has it (or it is invisible); else its
    compatibility form (NFKC: an Arabic presentation form or a ligature the fonts lack, as its
    plain letters); else U+FFFD. Control characters are dropped."""
    if unicodedata.category(char) == "Cc":
        return ""
    if _invisible(char) or _font_of(char):
        return char
    plain = unicodedata.normalize("NFKC", char)
    if plain != char and all(_font_of(c) for c in plain):
        return plain
    return REPLACEMENT


def unprintable(text):
    """The characters of `text` that no label font has (they print as U+FFFD)."""
    return sorted({c for c in text if _printable(c) == REPLACEMENT and c != REPLACEMENT})


@functools.cache
def _reshaper():
    """Arabic letters take their joined forms (initial, medial, final: Unicode's presentation
    forms, which DejaVu Sans draws). Only the ligatures the font has are made; harakat are kept."""
    cmap = dict(_fonts())["HarborSans"]
    config = {"delete_harakat": False, "support_ligatures": True}
    for name, (_match, forms) in LIGATURES:
        config[name] = all(ord(c) in cmap for form in forms for c in form)
    return arabic_reshaper.ArabicReshaper(configuration=config)


@functools.cache
def _advance(char):
    """A character's advance at 1 pt (reportlab draws without kerning, so widths add up)."""
    return 0 if _invisible(char) else pdfmetrics.stringWidth(char, _font_of(char), 1)


def _width(text, size):
    return sum(_advance(c) for c in text) * size


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


def _clusters(text):
    """Base characters with their combining marks (a line never breaks between them)."""
    clusters = []
    for char in text:
        if clusters and _is_mark(char):
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
        for cluster in _clusters(token):  # a token wider than the line: broken where it is full
            cluster_width = _width(cluster, size)
            if line and used + cluster_width > width:
                lines.append(line)
                line, used = "", 0.0
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
        self.runs = []  # [(font, text, width)]
        for char in visual:
            if _invisible(char):
                continue
            font = _font_of(char)
            if self.runs and self.runs[-1][0] == font:
                self.runs[-1][1].append(char)
            else:
                self.runs.append((font, [char]))
        self.runs = [(font, "".join(chars), _width(chars, size)) for font, chars in self.runs]
        self.width = sum(width for _font, _text, width in self.runs)

    def draw(self, pdf, x, y):
        """Left-aligned at `x`, or right-aligned to the text's right edge if it reads right to left."""
        if self.rtl:
            x = MARGIN + TEXT_WIDTH - self.width
        text = pdf.beginText(x, y)
        for font, run, _width in self.runs:
            text.setFont(font, self.size)
            text.textOut(run)
        pdf.drawText(text)


def lay_out(text, size):
    """A logical line of text as the printed Lines that hold it, at `size`."""
    text = " ".join(str(text).split())  # tabs, newlines and runs of spaces as one space
    base = _base_direction(text)
    if any(unicodedata.bidirectional(c) == "AL" for c in text):
        text = _reshaper().reshape(text)
    text = "".join(_printable(c) for c in text)
    return [Line(_visual(piece, base), size, base == "R") for piece in _wrap(text, size)]


def render(order, shipment, sender=None):
    """The label: `sender` (an address dict; settings.SHIP_FROM by default) at the top, the
    order's shipping address, its reference and lines, and the tracking number's barcode."""
    _fonts()  # registered with reportlab before the canvas names them
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(WIDTH, HEIGHT))
    pdf.setTitle(f"Label {shipment.tracking_number}")
    y = HEIGHT - MARGIN - 8

    def draw(lines):
        nonlocal y
        for line in lines:
            line.draw(pdf, MARGIN, y)
            y -= line.size * LEADING

    pdf.setFont("Helvetica-Bold", 7)
    pdf.drawString(MARGIN, y, "FROM")
    y -= 10
    draw([line for text in address_lines(sender or settings.SHIP_FROM) for line in lay_out(text, SENDER_SIZE)])
    y -= 8
    pdf.line(MARGIN, y, WIDTH - MARGIN, y)
    y -= 16
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(MARGIN, y, "SHIP TO")
    y -= 16
    texts = address_lines(order.shipping_address)
    if missing := unprintable("".join(texts)):
        logger.warning("label of order %s: %d characters cannot print (no font has them): %s",
                       order.reference, len(missing), " ".join(f"U+{ord(c):04X}" for c in missing))
    top = y
    address, size = _fit_address(texts, top, order.reference)
    draw(address)
    y = top - (len(address) - 1) * size * LEADING - size - RULE_GAP  # below the last line's descenders
    pdf.line(MARGIN, y, WIDTH - MARGIN, y)
    y -= 12
    # The short reference people read and type, never the order's id: the id opens the order's
    # page and its label, so it must not be printed where anyone handling the parcel can read it.
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(MARGIN, y, f"Order {order.reference}")
    y -= 12
    # A long address leaves less room for the lines.
    room = int((y - BARCODE_TOP - 4) // (ITEM_SIZE * LEADING)) + 1
    draw(_fit([f"{line.quantity} x {line.sku}" for line in order.lines.all()], room))

    barcode = Code128(shipment.tracking_number, barHeight=BARCODE_HEIGHT, barWidth=1.1)
    barcode.drawOn(pdf, (WIDTH - barcode.width) / 2, MARGIN + 18)
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawCentredString(WIDTH / 2, MARGIN + 4, shipment.tracking_number)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fit_address(texts, top, reference):
    """The address's printed lines and their size: the largest (13 pt down, by half points) at
    which its lines, the first on baseline `top`, stay above ADDRESS_FLOOR. Within the API's
    limits it always fits at MIN_ADDRESS_SIZE or above (tests/test_labels.py tries the longest
    address in the widest script); beyond them it is cut rather than run into the barcode."""
    size = ADDRESS_SIZE
    while True:
        lines = [line for text in texts for line in lay_out(text, size)]
        if top - (len(lines) - 1) * size * LEADING - size >= ADDRESS_FLOOR or size <= MIN_ADDRESS_SIZE:
            break
        size -= 0.5
    fits = max(1, int((top - size - ADDRESS_FLOOR) // (size * LEADING)) + 1)
    if len(lines) > fits:
        logger.warning("label of order %s: address cut to %d of %d lines", reference, fits, len(lines))
        lines = lines[:fits]
    return lines, size


def _fit(items, room):
    """The items' printed lines, as many as there is room for, the last one saying how many
    items were left out (an item wraps like any text)."""
    laid = [lay_out(text, ITEM_SIZE) for text in items]
    if sum(map(len, laid)) <= room:
        return [line for lines in laid for line in lines]
    taken = []
    for shown, lines in enumerate(laid):
        if len(taken) + len(lines) > room - 1:
            break
        taken += lines
    return taken + lay_out(f"+ {len(items) - shown} more", ITEM_SIZE) if room > 0 else []
