"""The label renderer: a 4×6 in shipping label as PDF bytes (reportlab).

Every address the API accepts has to print, whatever its script, and nothing may run off the
label. So the text is drawn in fonts shipped with the repository (orders/fonts/: DejaVu Sans
for Latin, Greek, Cyrillic, Hebrew and Arabic; Droid Sans Fallback for Chinese, Japanese and
Korean; Noto Sans for the scripts of India and for Thai), one font per run of characters it
covers, and every line is wrapped to the printable width by measuring it. Runs in the Noto
fonts are shaped by harfbuzz (conjuncts, vowel signs before or around their consonant, marks
placed by the font). The API takes only characters these fonts print (`printable_ranges()`,
orders/fonts/printable.txt, orders/fields.py). docs/labels.md explains the rules.

The package: `fonts` (which font draws each character, shaping, what can print), `text` (lines:
bidi, joining, wrapping) and, here, the label's layout and its barcode.
"""

import io
import logging

from django.conf import settings
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from orders.addresses import address_lines
from orders.labels.fonts import (FONT_DIR, FONT_FILES, PRINTABLE_FILE, SHAPED_FONTS, _fonts, _shape,  # noqa: F401 (the package's API)
                                 printable_file, printable_ranges, unprintable)
from orders.labels.text import HEIGHT, MARGIN, TEXT_WIDTH, WIDTH, lay_out  # noqa: F401

logger = logging.getLogger(__name__)

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
