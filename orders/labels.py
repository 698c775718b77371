"""The label renderer: a 4×6 in shipping label as PDF bytes (reportlab).

Every address the API accepts has to print, whatever its script, and nothing may run off the
label. So the text is drawn in fonts shipped with the repository (orders/fonts/: DejaVu Sans
for Latin, Greek, Cyrillic, Hebrew and Arabic; Droid Sans Fallback for Chinese, Japanese and
Korean; Noto Sans for the scripts of India and for Thai), one font per run of characters it
covers, and every line is wrapped to the printable width by measuring it. Runs in the Noto
fonts are shaped by harfbuzz (conjuncts, vowel signs before or around their consonant, marks
placed by the font). The API takes only characters these fonts print (`printable_ranges()`,
orders/fonts/printable.txt, orders/fields.py). docs/labels.md explains the rules.
"""

import functools
import io
import logging
import threading
import unicodedata
from collections import namedtuple
from itertools import groupby
from pathlib import Path

import arabic_reshaper
import uharfbuzz
from arabic_reshaper.ligatures import LIGATURES
from bidi.algorithm import get_base_level, get_display
from django.conf import settings
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, ShapeData, ShapedStr, TTFont
from reportlab.pdfgen import canvas
from reportlab.pdfgen.textobject import PDFTextObject

from orders.addresses import address_lines

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 4 * inch, 6 * inch
MARGIN = 0.25 * inch
TEXT_WIDTH = WIDTH - 2 * MARGIN  # every line of text fits in this
BARCODE_HEIGHT = 0.9 * inch
BARCODE_TOP = MARGIN + 18 + BARCODE_HEIGHT  # the order's lines stop above it
SERVICE_SIZE = 8  # the shipping method, beside the order's reference

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
FONT_FILES = (
    ("HarborSans", "DejaVuSans.ttf"),
    ("HarborCJK", "DroidSansFallback.ttf"),
    ("HarborDevanagari", "NotoSansDevanagari-Regular.ttf"),  # Hindi, Marathi, Nepali, ...
    ("HarborBengali", "NotoSansBengali-Regular.ttf"),  # Bengali, Assamese
    ("HarborGurmukhi", "NotoSansGurmukhi-Regular.ttf"),  # Punjabi
    ("HarborGujarati", "NotoSansGujarati-Regular.ttf"),
    ("HarborOriya", "NotoSansOriya-Regular.ttf"),  # Odia
    ("HarborTamil", "NotoSansTamil-Regular.ttf"),  # India and Singapore
    ("HarborTelugu", "NotoSansTelugu-Regular.ttf"),
    ("HarborKannada", "NotoSansKannada-Regular.ttf"),
    ("HarborMalayalam", "NotoSansMalayalam-Regular.ttf"),
    ("HarborThai", "NotoSansThai-Regular.ttf"),
)
# Scripts whose letters change shape and place as they combine: their runs are shaped.
SHAPED_FONTS = frozenset(name for name, filename in FONT_FILES if filename.startswith("NotoSans"))
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"  # for a character no font has (DejaVu Sans has this one)


class ShapedFont(TTFont):
    """A TrueType font whose runs of text harfbuzz shapes with the font's own OpenType tables.

    reportlab draws a shaped run (its ShapedStr) glyph by glyph at the offsets harfbuzz gives,
    but names each glyph to its subsetter by a character that maps to it. A glyph that no
    character maps to (a conjunct, a half form, a vowel sign's contextual variant) is named by
    a token, a private-use code point of plane 15 that maps to that glyph, one per glyph and the
    text it stands for; the PDF's ToUnicode map gives that text (reportlab would map it to the
    private-use character itself). Glyphs read left to right need not spell the run (a vowel
    sign is drawn before its consonant; a mark may stand left of its letter's origin), so each
    shaped run also carries its text as /ActualText, which copy, search and screen readers use."""

    FIRST_TOKEN, LAST_TOKEN = 0xF0000, 0xFFFFD  # then glyphs are named by tokens without text
    UNNAMED = 0x100000  # + glyph id: a glyph with no text of its own (the rest of a cluster's glyphs)

    def __init__(self, name, path):
        super().__init__(name, path)
        self.cmap = dict(self.face.charToGlyph)  # the font's own: tokens are added to the face's
        self.chars_of = {}
        for code, glyph in sorted(self.cmap.items()):
            self.chars_of.setdefault(glyph, []).append(chr(code))
        # One harfbuzz font per font, for the life of the process (harfbuzz shapes with it from
        # any thread). Positions come in font units: its scale is left at units per em.
        self.hb_font = uharfbuzz.Font(uharfbuzz.Face(uharfbuzz.Blob(Path(path).read_bytes())))
        self.to_pdf = 1000 / self.face.unitsPerEm
        self.tokens, self.texts = {}, {}  # (glyph, text) -> token; token -> text
        self.next_token = self.FIRST_TOKEN
        self.lock = threading.Lock()

    def shape(self, text):
        """`text` (one line's run, left to right) as reportlab draws it, and its advance at 1 pt."""
        buffer = uharfbuzz.Buffer()
        buffer.add_str(text)
        buffer.guess_segment_properties()
        buffer.direction = "ltr"  # the run is in display order already, and these scripts run left to right
        buffer.flags = uharfbuzz.BufferFlags.REMOVE_DEFAULT_IGNORABLES  # joiners steer, then vanish
        uharfbuzz.shape(self.hb_font, buffer)
        glyphs = list(zip(buffer.glyph_infos, buffer.glyph_positions))
        starts = sorted({info.cluster for info, _position in glyphs}) + [len(text)]
        ends = dict(zip(starts, starts[1:]))
        codes, data = [], []
        for cluster, members in groupby(glyphs, key=lambda glyph: glyph[0].cluster):
            members = list(members)
            for (info, position), code in zip(members, self._name(text[cluster:ends[cluster]], members)):
                codes.append(chr(code))
                scale = self.to_pdf
                data.append(ShapeData(cluster, position.x_advance * scale, position.y_advance * scale,
                                      position.x_offset * scale, position.y_offset * scale,
                                      self.face.charWidths[code]))
        return Shaped(ShapedStr("".join(codes), shapeData=data), sum(item.x_advance for item in data) / 1000)

    def _name(self, text, members):
        """The code naming each glyph of one harfbuzz cluster (which stands for `text`): a
        character of the font's cmap that maps to the glyph (one of the cluster's if it can be),
        else a token for the glyph and the cluster's characters no other glyph stands for (for
        the first such glyph; the others stand for nothing). Decomposed: a Tamil or Bengali
        vowel sign drawn in two parts, Thai's sara am, are drawn as their parts' glyphs."""
        wanted = list(unicodedata.normalize("NFKD", text))
        named = []
        for info, _position in members:
            chars = self.chars_of.get(info.codepoint, [])
            char = next((c for c in chars if c in wanted), chars[0] if chars else None)
            if char in wanted:
                wanted.remove(char)
            named.append(char)
        rest = unicodedata.normalize("NFC", "".join(wanted))
        names = []
        for (info, _position), char in zip(members, named):
            if char is not None:
                names.append(ord(char))
            else:
                names.append(self._token(info.codepoint, rest))
                rest = ""
        return names

    def _token(self, glyph, text):
        key = (glyph, text)
        code = self.tokens.get(key)
        if code is None:
            with self.lock:
                code = self.tokens.get(key)
                if code is None:
                    if text and self.next_token <= self.LAST_TOKEN:
                        code, self.next_token = self.next_token, self.next_token + 1
                    else:  # out of tokens (a process that printed 65,000 different syllables)
                        code, text = self.UNNAMED + glyph, ""
                    self.face.charWidths[code] = self.face.hmetrics[glyph][0] * self.to_pdf
                    self.face.charToGlyph[code] = glyph
                    self.texts[code] = text
                    self.tokens[key] = code
        return code

    def addObjects(self, doc):
        """reportlab's PDF objects for the font, with a ToUnicode map that gives each token's text."""
        state = self.state.get(doc)
        subsets = [list(subset) for subset in state.subsets] if state else []
        super().addObjects(doc)
        for n, subset in enumerate(subsets):
            base = b"".join((SUBSETN(n), b"+", self.face.name, self.face.subfontNameX)).decode("pdfdoc")
            doc.idToObject["toUnicodeCMap:" + base].content = _to_unicode_cmap(base, subset, self.texts)


Shaped = namedtuple("Shaped", "glyphs width")


def _to_unicode_cmap(name, subset, texts):
    """A ToUnicode CMap for one subset (code i draws subset[i]): a character reads as itself, a
    token as its text (UTF-16BE). The notdef glyph and glyphs that stand for nothing get no
    entry (as Chromium's PDFs do): they are always inside an /ActualText span."""
    entries = []
    for code, char in enumerate(subset):
        text = texts[char] if char in texts else (chr(char) if char else "")
        if text:
            entries.append(f"<{code:02X}> <{text.encode('utf-16-be').hex().upper()}>")
    blocks = []
    for i in range(0, len(entries), 100):  # at most 100 entries a block
        chunk = entries[i:i + 100]
        blocks += [f"{len(chunk)} beginbfchar", *chunk, "endbfchar"]
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        f"/CIDSystemInfo << /Registry ({name}) /Ordering ({name}) /Supplement 0 >> def",
        f"/CMapName /{name} def", "/CMapType 2 def",
        "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
        *blocks, "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"])


@functools.cache
def _fonts():
    """{name: font}, in order of preference, registered with reportlab once per process
    (parsing them takes about 100 ms)."""
    fonts = {}
    for name, filename in FONT_FILES:
        font = (ShapedFont if name in SHAPED_FONTS else TTFont)(name, FONT_DIR / filename)
        pdfmetrics.registerFont(font)
        fonts[name] = font
    return fonts


@functools.cache
def _cmaps():
    """[(name, the code points its cmap maps)], in order of preference: the fonts' own cmaps
    (reportlab's shaping adds private-use tokens to the face's, which must not count)."""
    return [(name, frozenset(font.cmap if isinstance(font, ShapedFont) else font.face.charToGlyph))
            for name, font in _fonts().items()]


@functools.cache
def _cmap(font):
    return dict(_cmaps())[font]


def _font_of(char):
    """The first font that has `char`, or None."""
    code = ord(char)
    for name, cmap in _cmaps():
        if code in cmap:
            return name
    return None


@functools.lru_cache(maxsize=8192)
def _shape(font, text):
    """A run of a shaped font, shaped (cached: the same words recur at every size tried)."""
    return _fonts()[font].shape(text)


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


# Scripts a font has letters of but that the label cannot write as they are written.
NOT_WRITTEN = [(0x07C0, 0x07FF)]  # N'Ko (in DejaVu Sans): its letters join, like Arabic's, and only Arabic is joined
PRINTABLE_FILE = FONT_DIR / "printable.txt"


def printable_ranges():
    """The visible characters an address may use, as [(first, last)] code point ranges: every
    character of the Basic Multilingual Plane that the label draws as itself or as its
    compatibility form (never as U+FFFD), less control, format, private-use and unassigned
    characters, spaces, U+FFFD and U+FFFC (which stand for something else) and NOT_WRITTEN.
    The API takes these, spaces, and the joiners and direction marks (orders/fields.py reads
    PRINTABLE_FILE)."""
    ranges = []
    for code in range(0x10000):
        char = chr(code)
        if (unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or char.isspace()
                or char in (REPLACEMENT, "\N{OBJECT REPLACEMENT CHARACTER}")
                or any(first <= code <= last for first, last in NOT_WRITTEN)
                or _printable(char) in ("", REPLACEMENT)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return [tuple(pair) for pair in ranges]


def printable_file():
    """PRINTABLE_FILE's text: printable_ranges(), one range a line (tests/test_labels.py checks
    that the file in the repository is this; regenerate with `python -m orders.labels`)."""
    return "".join([
        "# The visible characters a shipping address may use: those the label's fonts print.\n",
        "# Generated from orders/fonts/*.ttf by orders.labels.printable_ranges() "
        "(`python -m orders.labels`): do not edit.\n",
        # Which characters are assigned, and their categories, come from Python's Unicode database.
        f"# Unicode {unicodedata.unidata_version} (regenerate after a Python upgrade changes it).\n",
        *(f"{first:04X}\n" if first == last else f"{first:04X}-{last:04X}\n" for first, last in printable_ranges()),
    ])


@functools.cache
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


def render(order, shipment, sender=None, items=None):
    """The label: `sender` (an address dict; settings.SHIP_FROM by default) at the top, the
    order's shipping address, its reference, the parcel's `items` ([(quantity, sku)]; the
    order's lines by default) and the tracking number's barcode."""
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
    # The service the shopper paid for (the carrier sorts by it), right of the reference.
    if service := getattr(order, "shipping_method_name", ""):
        reference_width = pdf.stringWidth(f"Order {order.reference}", "Helvetica-Bold", 9)
        [line, *_] = lay_out(service, SERVICE_SIZE)
        if line.width <= TEXT_WIDTH - reference_width - 8:
            line.draw(pdf, MARGIN + TEXT_WIDTH - line.width, y)
    y -= 12
    # A long address leaves less room for the lines.
    room = int((y - BARCODE_TOP - 4) // (ITEM_SIZE * LEADING)) + 1
    if items is None:
        items = [(line.quantity, line.sku) for line in order.lines.all()]
    draw(_fit([f"{quantity} x {sku}" for quantity, sku in items], room))

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


if __name__ == "__main__":
    PRINTABLE_FILE.write_text(printable_file())
