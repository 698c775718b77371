"""The label's fonts: which of the repository's fonts (orders/fonts/) draws each character,
harfbuzz's shaping of the scripts that need it, and the characters the fonts can print
(`printable_ranges()`, which the API's address fields accept: orders/fields.py)."""

import functools
import threading
import unicodedata
from collections import namedtuple
from itertools import groupby
from pathlib import Path

import uharfbuzz
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, ShapeData, ShapedStr, TTFont


FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"  # orders/fonts/
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


