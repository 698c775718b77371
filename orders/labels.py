"""The label renderer: a 4×6 in shipping label as PDF bytes (reportlab)."""

import io

from django.conf import settings
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from orders.addresses import address_lines

WIDTH, HEIGHT = 4 * inch, 6 * inch
MARGIN = 0.25 * inch
BARCODE_HEIGHT = 0.9 * inch
BARCODE_TOP = MARGIN + 18 + BARCODE_HEIGHT  # the order's lines stop above it


def _fit(lines, room):
    """As many lines as there is room for, the last one saying how many were left out."""
    if len(lines) <= room:
        return lines
    return lines[:room - 1] + [f"+ {len(lines) - room + 1} more"] if room > 0 else []


def render(order, shipment):
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(WIDTH, HEIGHT))
    pdf.setTitle(f"Label {shipment.tracking_number}")
    y = HEIGHT - MARGIN - 8

    def text(lines, size, gap=2):
        nonlocal y
        pdf.setFont("Helvetica", size)
        for line in lines:
            pdf.drawString(MARGIN, y, str(line)[:60])
            y -= size + gap

    pdf.setFont("Helvetica-Bold", 7)
    pdf.drawString(MARGIN, y, "FROM")
    y -= 10
    text(address_lines(settings.SHIP_FROM), 8)
    y -= 8
    pdf.line(MARGIN, y, WIDTH - MARGIN, y)
    y -= 16
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(MARGIN, y, "SHIP TO")
    y -= 16
    text(address_lines(order.shipping_address), 13, gap=3)
    y -= 6
    pdf.line(MARGIN, y, WIDTH - MARGIN, y)
    y -= 12
    text([f"Order {order.id}"], 7)
    # A long address (a region, a postcode on its own line) leaves less room for the lines.
    text(_fit([f"{line.quantity} x {line.sku}" for line in order.lines.all()], int((y - BARCODE_TOP - 4) // 10)), 8)

    barcode = Code128(shipment.tracking_number, barHeight=BARCODE_HEIGHT, barWidth=1.1)
    barcode.drawOn(pdf, (WIDTH - barcode.width) / 2, MARGIN + 18)
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawCentredString(WIDTH / 2, MARGIN + 4, shipment.tracking_number)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
