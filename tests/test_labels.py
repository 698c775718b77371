"""The label renderer: a 4x6 in PDF with the tracking number, on which every address the API
accepts prints, in its own script, inside the label.

The address is read back from the PDF (tests/pdftext.py: pdfminer.six) and compared with the
address sent, under one rule (docs/labels.md):

- glyphs read as their ToUnicode text, left to right, except that glyphs drawn inside an
  /ActualText span read together as its text (what Acrobat and pdftotext copy): a shaped
  script (Devanagari, Tamil, ...) draws a vowel sign before the consonant it follows, or one
  glyph for a conjunct of three letters, and its runs say what they spell. Such text counts
  only if it is also drawn as harfbuzz shapes it with the repository's font (this test
  shapes it itself with uharfbuzz, independently of the renderer, and compares where every
  glyph stands and how wide it is), so a run drawn unshaped, or in another font, fails;
- compatibility forms count as their letters (NFKC: Arabic is drawn in its joined forms, which
  are Unicode's presentation forms; U+FEE3 ARABIC LETTER MEEM INITIAL FORM reads as U+0645 MEEM,
  and a lam-alef ligature, drawn in display order, as alef then lam);
- invisible format characters (Cf) and the spacing between words are not compared, except
  that a line printed whole must match with its single spaces;
- right-to-left text is drawn in display order, so the line sent is first put in display
  order by an independent implementation of Unicode's bidi algorithm (python-bidi's Rust one;
  the renderer uses its pure-Python one), brackets counted alike whichever way they face
  (mirroring is checked on its own).
"""

import itertools
import re
import unicodedata
from pathlib import Path

import pytest
import uharfbuzz
from bidi import get_display as display_order  # the Rust implementation: not the renderer's
from django.core.validators import RegexValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase.ttfonts import TTFontFile

from catalog.models import Product
from orders import labels
from orders.addresses import address_lines
from orders.models import Order, OrderLine, Shipment
from orders.serializers import AddressSerializer
from tests.factories import ProductFactory
from tests.pdftext import printed_lines


@pytest.fixture
def shipment(db):
    product = ProductFactory(sku="MUG-001")
    order = Order.objects.create(email="a@example.com", payment_method="pm_card_visa", total=1800, currency="usd",
                                 shipping_address={"name": "Ada", "line1": "1 Road", "line2": "", "city": "Town",
                                                   "postal_code": "PO1", "country": "GB"})
    OrderLine.objects.create(order=order, product=product, sku="MUG-001", quantity=1, unit_price=1800)
    return Shipment.objects.create(order=order, tracking_number="HB12345678901234")


def test_label_is_a_one_page_4_by_6_inch_pdf_titled_with_the_tracking_number(shipment):
    pdf = labels.render(shipment.order, shipment)

    assert pdf.startswith(b"%PDF")
    assert re.findall(rb"/MediaBox \[\s*0 0 288 432\s*\]", pdf)  # 4x6 in at 72 pt/in
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 1
    assert b"HB12345678901234" in pdf


# One address per script the shipping countries write in, and the longest ones the API takes.
ADDRESSES = {
    "japanese name, polish street": {"name": "山田太郎", "line1": "ul. Żółć Gęślą 12/4", "city": "Kraków",
                                     "postal_code": "30-001", "country": "PL"},
    "greek": {"name": "Γιώργος Παπαδόπουλος", "line1": "Οδός Ερμού 25", "city": "Αθήνα", "postal_code": "105 63",
              "country": "GR"},
    "cyrillic": {"name": "Иван Петрович Сидоров", "line1": "ул. Тверская, д. 7, кв. 15", "city": "Рига",
                 "postal_code": "LV-1050", "country": "LV"},
    "hebrew": {"name": "דוד כהן", "line1": "רחוב הרצל 12, דירה 3", "line2": "כניסה ב׳ (ליד הבנק)",
               "city": "תל אביב-יפו", "postal_code": "6100000", "country": "IL"},
    "arabic": {"name": "محمد عبد الله", "line1": "شارع الشيخ زايد، برج الإمارات 12", "line2": "الطابق ٣٤ (مكتب ٥)",
               "city": "دبي", "postal_code": "00000", "country": "AE"},
    "korean": {"name": "김민준", "line1": "서울특별시 강남구 테헤란로 152", "line2": "강남파이낸스센터 21층",
               "city": "서울", "postal_code": "06236", "country": "KR"},
    "chinese": {"name": "陳大文", "line1": "信義區市府路1號", "line2": "台北101大樓 88樓", "city": "臺北市",
                "postal_code": "110", "country": "TW"},
    "200-character line1": {"name": "Ada O'Brien", "city": "Portland", "region": "OR", "postal_code": "97201",
                            "country": "US",
                            "line1": ("Apartment 12B, Building Harborview Gardens, " * 5)[:200]},
    "every field at its longest, in the widest script": {
        "name": "東" * 100, "line1": "京都千代田区丸の内" * 22 + "一二", "line2": "ＷＭ" * 100, "city": "千" * 100,
        "region": "都" * 100, "postal_code": "〒" * 20, "country": "JP"},
    # The scripts of India (and Tamil, an official language of Singapore), and Thai: shaped.
    "hindi (devanagari)": {"name": "अनिता शर्मा", "line1": "फ़्लैट 12, श्री कृष्ण अपार्टमेंट", "line2": "सेक्टर 5, द्वारका",
                           "city": "नई दिल्ली", "postal_code": "110075", "country": "IN"},
    "tamil": {"name": "கொற்றவை சுப்பிரமணியம்", "line1": "பிளாக் 123, சிராங்கூன் சாலை", "line2": "#05-67",
              "city": "சிங்கப்பூர்", "postal_code": "218227", "country": "SG"},
    "bengali": {"name": "সৌমিত্র চট্টোপাধ্যায়", "line1": "১২/৩ রাসবিহারী অ্যাভিনিউ", "city": "কলকাতা",
                "postal_code": "700029", "country": "IN"},
    "gurmukhi": {"name": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "line1": "ਮਕਾਨ ਨੰ. 45, ਮਾਲ ਰੋਡ", "city": "ਅੰਮ੍ਰਿਤਸਰ",
                 "postal_code": "143001", "country": "IN"},
    "gujarati": {"name": "હાર્દિક પટેલ", "line1": "૧૫, સરદાર પટેલ માર્ગ", "city": "અમદાવાદ", "postal_code": "380009",
                 "country": "IN"},
    "oriya (odia)": {"name": "ସୁଭଶ୍ରୀ ମହାପାତ୍ର", "line1": "ପ୍ଲଟ 7, ଜନପଥ", "city": "ଭୁବନେଶ୍ୱର",
                     "postal_code": "751001", "country": "IN"},
    "telugu": {"name": "శ్రీనివాస్ రెడ్డి", "line1": "ఇంటి నం. 8-2-293, రోడ్ నం. 82", "city": "హైదరాబాద్",
               "postal_code": "500033", "country": "IN"},
    "kannada": {"name": "ಅಕ್ಷತಾ ರಾವ್", "line1": "೧೨, ಎಂ.ಜಿ. ರಸ್ತೆ", "city": "ಬೆಂಗಳೂರು", "postal_code": "560001",
                "country": "IN"},
    "malayalam": {"name": "ശ്രീലക്ഷ്മി നായർ", "line1": "ടി.സി. 25/1234, എം.ജി. റോഡ്", "city": "തിരുവനന്തപുരം",
                  "postal_code": "695001", "country": "IN"},
    "200-character line1 in malayalam": {"name": "ശ്രീലക്ഷ്മി നായർ", "city": "കൊച്ചി", "postal_code": "682001",
                                         "country": "IN", "line1": ("ഫ്ലാറ്റ് 4ബി, കൃഷ്ണ അപ്പാർട്ട്മെന്റ്സ്, " * 6)[:200]},
    "thai": {"name": "สมชาย ใจดี", "line1": "99/1 ถนนสุขุมวิท ซอย 21", "city": "สิงคโปร์", "postal_code": "018956",
             "country": "SG"},
}
SHAPED = [name for name in ADDRESSES if any("\u0900" <= char <= "\u0e7f" for char in ADDRESSES[name]["name"])]


def accepted(address):
    """The address as checkout stores it, after the API's own validation."""
    serializer = AddressSerializer(data=address)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@pytest.fixture
def order_to(db):
    def order_to(address, lines=(("MUG-001", 1), ("TEE-BLK-M", 2))):
        order = Order.objects.create(email="ada@example.com", shipping_address=accepted(address), total=5400,
                                     payment_method="pm_card_visa", currency="usd")
        for sku, quantity in lines:
            product = Product.objects.filter(sku=sku).first() or ProductFactory(sku=sku)
            OrderLine.objects.create(order=order, product=product, sku=sku, quantity=quantity, unit_price=1800)
        order.refresh_from_db()  # its number, from the database's sequence
        return order
    return order_to


def label_of(order, **kwargs):
    return labels.render(order, Shipment(order=order, tracking_number="HB12345678901234"), **kwargs)


def ship_to(printed):
    """The printed lines of the SHIP TO block."""
    texts = [line.text for line in printed]
    start = texts.index("SHIP TO") + 1
    end = next(i for i, text in enumerate(texts) if text.startswith("Order HB-"))
    return printed[start:end]


MIRRORED = str.maketrans(")]}>»›", "([{<«‹")


def _letters(char):
    letters = unicodedata.normalize("NFKC", char)
    # A ligature drawn in right-to-left text (lam-alef) stands for its letters read from the right.
    return letters[::-1] if len(letters) > 1 and unicodedata.bidirectional(char) == "AL" else letters


def readable(text, spaces=False):
    """`text` as the comparison rule reads it (module docstring)."""
    text = "".join(_letters(char) for char in text).translate(MIRRORED)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(text.split()) if spaces else "".join(text.split())


@pytest.mark.parametrize("name", ADDRESSES)
def test_every_line_of_the_address_prints_in_its_own_script(order_to, name):
    order = order_to(ADDRESSES[name])

    printed = ship_to(printed_lines(label_of(order)))

    remaining = list(printed)
    for line in address_lines(order.shipping_address):
        wanted = readable(display_order(line))
        taken = [remaining.pop(0)]  # a long line wraps onto the next printed lines
        while len(readable("".join(p.text for p in taken))) < len(wanted) and remaining:
            taken.append(remaining.pop(0))
        assert readable("".join(p.text for p in taken)) == wanted, (line, [p.text for p in taken])
        if len(taken) == 1:
            assert readable(taken[0].text, spaces=True) == readable(display_order(line), spaces=True)
    assert not remaining


FONT_DIR = Path(labels.__file__).resolve().parent.parent / "fonts"  # the repository's fonts (orders/fonts/)
FONT_CMAPS = {path.stem: TTFontFile(str(path)).charToGlyph for path in FONT_DIR.glob("*.ttf")}


@pytest.mark.parametrize("name", ADDRESSES)
def test_every_character_is_drawn_with_a_font_that_has_it(order_to, name):
    """No box for a missing glyph: each address line is drawn in fonts embedded in the PDF (a
    subset of one of the repository's fonts), each of which has every character it draws."""
    for line in ship_to(printed_lines(label_of(order_to(ADDRESSES[name])))):
        cmaps = [FONT_CMAPS.get(fontname.split("+")[-1], {}) for fontname in line.fonts]
        missing = [char for char in line.text if char != " " and not any(ord(char) in cmap for cmap in cmaps)]
        assert not missing, (line.text, line.fonts)


@pytest.mark.parametrize("name", ADDRESSES)
def test_nothing_runs_off_the_label_or_into_the_barcode(order_to, name):
    order = order_to(ADDRESSES[name], lines=[(f"SKU-{i}", 1) for i in range(20)])

    printed = printed_lines(label_of(order))

    for line in printed:
        assert line.x0 >= labels.MARGIN - 0.01 and line.x1 <= labels.WIDTH - labels.MARGIN + 0.01, line
    texts = [line.text for line in printed]
    barcode_text = texts.index("HB12345678901234")
    assert all(line.baseline > labels.BARCODE_TOP for line in printed[:barcode_text])
    assert re.fullmatch(r"\+ \d+ more", texts[barcode_text - 1])  # the order's lines, cut to fit


NOTO = {path.stem: path for path in FONT_DIR.glob("NotoSans*.ttf")}
SHAPED_TEXT = re.compile("[\u0900-\u0e7f\u200c\u200d]+")  # a run of an Indic script or Thai


def harfbuzz(font, text, size):
    """Where harfbuzz draws `text`'s glyphs in `font` (uharfbuzz's defaults, the font's OpenType
    tables): [(origin, advance)] in points at `size`, from where the text starts."""
    face = uharfbuzz.Face(uharfbuzz.Blob(NOTO[font].read_bytes()))
    hb_font = uharfbuzz.Font(face)
    buffer = uharfbuzz.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    uharfbuzz.shape(hb_font, buffer)
    glyphs, pen = [], 0
    for info, position in zip(buffer.glyph_infos, buffer.glyph_positions):
        glyphs.append(((pen + position.x_offset) * size / face.upem,
                       hb_font.get_glyph_h_advance(info.codepoint) * size / face.upem))
        pen += position.x_advance
    return glyphs


@pytest.mark.parametrize("name", SHAPED)
def test_shaped_scripts_are_drawn_as_harfbuzz_shapes_them_with_the_repository_s_font(order_to, name):
    """Each run of an Indic script or Thai is drawn glyph for glyph where harfbuzz puts it (the
    vowel sign i before its consonant, a conjunct as one glyph, marks placed by the font):
    the same number of glyphs, each at the same place from the run's start and as wide."""
    order = order_to(ADDRESSES[name])

    printed = ship_to(printed_lines(label_of(order)))

    runs = 0
    for line in printed:
        drawn = [[glyph for glyph in group]
                 for noto, group in itertools.groupby(line.glyphs, key=lambda glyph: "NotoSans" in glyph.font) if noto]
        wanted = SHAPED_TEXT.findall(line.text)
        assert len(drawn) == len(wanted), (line.text, wanted)
        for glyphs, text in zip(drawn, wanted):
            expected = sorted(harfbuzz(glyphs[0].font.split("+")[-1], text, glyphs[0].size))
            placed = sorted((glyph.x0, glyph.x1 - glyph.x0) for glyph in glyphs)
            assert len(placed) == len(expected), (text, [glyph.text for glyph in glyphs])
            start = placed[0][0] - expected[0][0]  # where the run starts on the label
            for (x, advance), (want_x, want_advance) in zip(placed, expected):
                assert abs(x - start - want_x) < 0.01 and abs(advance - want_advance) < 0.01, (text, placed, expected)
            runs += 1
    assert runs >= 3  # not vacuous: the name, line1 and city are in the script


@pytest.mark.parametrize(("word", "glyphs"), [
    ("दिल्ली", ["ि", "द", "ल्", "ल", "ी"]),  # vowel sign i before its consonant; ल् a half form
    ("श्री", ["श्र", "ी"]),  # a conjunct: one glyph for three letters
    ("சென்னை", ["ெ", "ச", "ன்", "ை", "ன"]),  # Tamil's e and ai signs before their consonant
    ("கொற்றவை", ["ெ", "க", "ா", "ற்", "ற", "ை", "வ"]),  # ொ drawn in two parts, around க
    ("রোড", ["ে", "র", "া", "ড"]),  # Bengali's o sign, around র
    ("কিশোর", ["ি", "ক", "ে", "শ", "া", "র"]),
])
def test_vowel_signs_stand_where_the_script_writes_them(order_to, word, glyphs):
    """Read glyph by glyph, as a reader that ignores /ActualText would: the glyphs of a word
    stand in the order the script writes them, each reading as the letters it stands for."""
    order = order_to({"name": word, "line1": "1", "city": "Chennai", "postal_code": "600001", "country": "IN"})

    (name, *_rest) = ship_to(printed_lines(label_of(order)))

    assert name.text == word
    assert [glyph.text for glyph in name.glyphs] == glyphs


def test_the_printable_characters_file_is_what_the_fonts_print():
    """orders/fonts/printable.txt (what the API takes, orders/fields.py) is generated from the
    fonts; regenerate it with `python -m orders.labels` after changing them."""
    assert labels.PRINTABLE_FILE.read_text() == labels.printable_file()


def test_every_character_the_api_takes_prints_on_the_label():
    """The API's rule and the renderer agree: each character the address fields' pattern (as
    the server enforces it) admits as an address line is drawn as itself (or its compatibility
    form) in a font that has it, never as U+FFFD, and in a shaped font never as the font's
    missing glyph."""
    (pattern,) = [validator.regex for validator in AddressSerializer().fields["line1"].validators
                  if isinstance(validator, RegexValidator)]
    admitted = [chr(code) for code in range(0x110000)
                if not 0xD800 <= code <= 0xDFFF and pattern.search(chr(code))]

    assert len(admitted) > 40_000 and "न" in admitted and "த" in admitted and "🙂" not in admitted
    assert not labels.unprintable("".join(admitted))
    missing = []
    for char in admitted:
        (line,) = labels.lay_out(char, 13)
        for font, run, _width in line.runs:
            glyphs = labels._shape(font, run).glyphs if font in labels.SHAPED_FONTS else run
            face = labels._fonts()[font].face
            if "\ufffd" in run or any(face.charToGlyph.get(ord(glyph), 0) == 0 for glyph in glyphs):
                missing.append(char)
    assert not missing, [f"U+{ord(char):04X}" for char in missing[:20]]


def test_right_to_left_lines_read_right_to_left_with_arabic_letters_joined(order_to):
    hebrew = ship_to(printed_lines(label_of(order_to(ADDRESSES["hebrew"]))))
    arabic = ship_to(printed_lines(label_of(order_to(ADDRESSES["arabic"]))))

    assert hebrew[0].text == "ןהכ דוד"  # drawn from the right: דוד כהן
    right_edge = labels.WIDTH - labels.MARGIN
    rtl = [line for line in hebrew + arabic if any(unicodedata.bidirectional(c) in ("R", "AL") for c in line.text)]
    assert len(rtl) == 8 and all(abs(line.x1 - right_edge) < 0.01 for line in rtl)  # aligned to the right edge
    # Joined: every Arabic letter in its initial, medial, final or isolated form, e.g. محمد as
    # MEEM initial, HAH medial, MEEM medial, DAL final, drawn from the right.
    assert arabic[0].text.endswith("\ufeaa\ufee4\ufea4\ufee3")
    letters = [c for line in arabic for c in line.text if unicodedata.bidirectional(c) == "AL"]
    assert letters and all("FORM" in unicodedata.name(c) for c in letters)
    assert "\ufef9" in "".join(line.text for line in arabic)  # lam-alef with hamza below, one glyph: الإمارات
    # Brackets face the words they enclose: (ליד הבנק) is drawn as "(קנבה דיל)" from the left.
    assert "(קנבה דיל)" in hebrew[2].text and "(٥ ﺐﺘﻜﻣ)" in arabic[2].text


def test_a_hebrew_letter_keeps_its_points():
    """Combining marks stay on their letter once a right-to-left line is reversed for drawing."""
    (line,) = labels.lay_out("שָׁלוֹם", 13)

    drawn = "".join(text for _font, text, _width in line.runs)

    assert drawn == "ם" + "ו\u05b9" + "ל" + "ש\u05b8\u05c1"


def test_the_label_prints_the_order_s_short_reference_not_its_id(order_to):
    order = order_to(ADDRESSES["greek"])

    pdf = label_of(order)

    texts = [line.text for line in printed_lines(pdf)]
    assert order.reference.startswith("HB-") and f"Order {order.reference}" in texts
    assert not any(str(order.id) in text or order.id.hex in text for text in texts)
    assert str(order.id).encode() not in pdf and order.id.hex.encode() not in pdf


def test_the_sender_is_printed_from_the_address_given(order_to):
    sender = {"name": "Harbor Warszawa", "line1": "ul. Świętokrzyska 11", "city": "Warszawa",
              "postal_code": "00-001", "country": "PL"}

    texts = [line.text for line in printed_lines(label_of(order_to(ADDRESSES["korean"]), sender=sender))]

    assert texts[:5] == ["FROM", "Harbor Warszawa", "ul. Świętokrzyska 11", "00-001 Warszawa", "Poland"]
    assert texts[texts.index("SHIP TO") + 1] == "김민준"


def test_a_character_no_font_has_prints_as_a_replacement_and_is_named(db, caplog):
    """The API refuses what the fonts cannot print (emoji), but an order may hold it from before
    it did: the label says so with U+FFFD rather than a blank, and the warning names the order."""
    order = Order.objects.create(email="a@example.com", payment_method="pm_card_visa", total=1800, currency="usd",
                                 shipping_address={"name": "Asha 🙂", "line1": "नई दिल्ली 5", "city": "Delhi",
                                                   "postal_code": "110001", "country": "IN"})
    order.refresh_from_db()

    printed = ship_to(printed_lines(label_of(order)))

    assert [line.text for line in printed[:2]] == ["Asha \ufffd", "नई दिल्ली 5"]
    assert labels.unprintable("Asha 🙂 नई दिल्ली") == ["🙂"]
    assert order.reference in caplog.text and "cannot print" in caplog.text and "U+1F642" in caplog.text


def test_the_fonts_are_the_repository_s_own_with_their_licences():
    assert {path.name for path in FONT_DIR.iterdir()} >= {
        "DejaVuSans.ttf", "LICENSE-DejaVu", "DroidSansFallback.ttf", "LICENSE-DroidSansFallback",
        "NotoSansDevanagari-Regular.ttf", "NotoSansTamil-Regular.ttf", "NotoSansBengali-Regular.ttf", "LICENSE-Noto"}
    noto = (FONT_DIR / "LICENSE-Noto").read_text()
    assert "License: OFL-1.1" in noto and "PERMISSION & CONDITIONS" in noto  # the licence's whole text
    assert {Path(labels.FONT_DIR) / font_file for _name, font_file in labels.FONT_FILES} == set(FONT_DIR.glob("*.ttf"))


# Letters of each script the fonts have (a few rare Arabic letters are not in DejaVu Sans), and
# the letters and signs of the shaped scripts (Devanagari to Malayalam, Thai).
SCRIPTS = "".join(c for c in map(chr, [*range(0x41, 0x5b), *range(0x61, 0x7b), *range(0x100, 0x180),
                                       *range(0x391, 0x3aa), *range(0x410, 0x450), *range(0x5d0, 0x5eb),
                                       *range(0x620, 0x64b), *range(0x660, 0x66a), *range(0x4e00, 0x4e80),
                                       *range(0xac00, 0xac80), *range(0x3041, 0x3097), *range(0x900, 0xd80),
                                       *range(0xe01, 0xe5c)])
                  if any(ord(c) in cmap for cmap in FONT_CMAPS.values())) + "0123456789,.-/()"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(SCRIPTS + "   \u200f\u200d\u200c\u00ad"),  # + RLM, ZWJ, ZWNJ, SHY
                    max_size=200),
       size=st.sampled_from([5, 6.5, 9, 13]))  # the address's smallest and largest sizes, and between
def test_wrapped_lines_fit_the_label_and_keep_every_character(text, size):
    lines = labels.lay_out(text, size)

    assert all(line.width <= labels.TEXT_WIDTH for line in lines)
    drawn = "".join(text for line in lines for _font, text, _width in line.runs)
    assert sorted(readable(drawn)) == sorted(readable(text))


@pytest.mark.parametrize("accept", ["application/pdf", "*/*", "application/json, application/pdf;q=0.9"])
def test_the_label_is_served_to_a_client_asking_for_a_pdf_as_the_schema_says(shipment, settings, tmp_path, accept):
    from django.core.files.base import ContentFile
    from django.test import Client

    settings.MEDIA_ROOT = tmp_path
    shipment.label.save("label.pdf", ContentFile(labels.render(shipment.order, shipment)))

    answer = Client().get(f"/api/orders/{shipment.order_id}/label.pdf", HTTP_ACCEPT=accept)

    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert b"".join(answer.streaming_content).startswith(b"%PDF")


def test_no_label_yet_is_a_json_404_even_to_a_client_asking_for_a_pdf(db):
    from django.test import Client

    answer = Client().get("/api/orders/00000000-0000-4000-8000-000000000000/label.pdf",
                          HTTP_ACCEPT="application/pdf")

    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_the_label_prints_the_shipping_method_beside_the_reference(shipment):
    order = shipment.order
    order.shipping_method, order.shipping_method_name = "eu-express", "Express (EU)"

    text = "\n".join(line.text for line in printed_lines(labels.render(order, shipment)))

    assert "Express (EU)" in text and f"Order {order.reference}" in text
