"""Product pictures for the demo catalog, drawn with Pillow when the catalog is seeded (no
downloads, no files in the repository): a studio shot, a close-up and, for most products, the
product on deck planks. Each is a simple flat illustration of the product (a mug, a tee, a
lantern...) in the product's colour, lit from the top left, with a soft shadow.

Drawn at twice the size and scaled down, so edges are smooth. Deterministic: the same product
always gets the same pictures.
"""

import hashlib
import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

SIZE = 960  # the pictures are square; the thumbnails go up to this width (catalog/images.py)
SUPER = 2
W = SIZE * SUPER


def rgb(colour):
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


def shade(colour, factor):
    """Darker (factor < 1) or lighter (> 1, towards white) version of an (r, g, b)."""
    if factor <= 1:
        return tuple(int(c * factor) for c in colour)
    t = min(factor - 1, 1)
    return tuple(int(c + (255 - c) * t) for c in colour)


def accent(colour):
    """A contrasting trim colour: navy on light things, cream on dark ones."""
    return (31, 53, 89) if sum(colour) > 450 else (240, 232, 214)


class Canvas:
    """Drawing in a 1000 x 1000 design space, placed at (cx, cy) with a scale and a rotation."""

    def __init__(self, size, scale=1.0, cx=500, cy=520):
        self.image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)
        self.k = size / 1000 * scale
        self.cx, self.cy, self.size = cx, cy, size

    def p(self, x, y):
        return (self.size / 2 + (x - 500) * self.k + (self.cx - 500) * self.size / 1000,
                self.size / 2 + (y - 500) * self.k + (self.cy - 500) * self.size / 1000)

    def box(self, x0, y0, x1, y1):
        (a, b), (c, d) = self.p(x0, y0), self.p(x1, y1)
        return [min(a, c), min(b, d), max(a, c), max(b, d)]

    def rect(self, x0, y0, x1, y1, fill, radius=0, outline=None, width=0):
        self.draw.rounded_rectangle(self.box(x0, y0, x1, y1), radius=radius * self.k, fill=fill,
                                    outline=outline, width=int(width * self.k))

    def ellipse(self, x0, y0, x1, y1, fill=None, outline=None, width=0):
        self.draw.ellipse(self.box(x0, y0, x1, y1), fill=fill, outline=outline, width=max(1, int(width * self.k)))

    def polygon(self, points, fill, outline=None, width=0):
        self.draw.polygon([self.p(x, y) for x, y in points], fill=fill, outline=outline,
                          width=int(width * self.k) if outline else 0)

    def line(self, points, fill, width):
        self.draw.line([self.p(x, y) for x, y in points], fill=fill, width=max(1, int(width * self.k)),
                       joint="curve")

    def arc(self, x0, y0, x1, y1, start, end, fill, width):
        self.draw.arc(self.box(x0, y0, x1, y1), start, end, fill=fill, width=max(1, int(width * self.k)))

    def cylinder(self, x0, y0, x1, y1, colour, radius=0):
        """A body lit from the left: base colour, a highlight band, a darker right side."""
        self.rect(x0, y0, x1, y1, colour, radius)
        w = x1 - x0
        self.rect(x0 + w * 0.62, y0 + radius * 0.3, x1, y1 - radius * 0.3, shade(colour, 0.82), radius)
        self.rect(x0 + w * 0.12, y0 + max(radius, 8), x0 + w * 0.24, y1 - max(radius, 8), shade(colour, 1.25),
                  radius=w * 0.05)


# --- the products -------------------------------------------------------------------------

def mug(c, col, rnd):
    rim = accent(col)
    c.arc(560, 380, 760, 600, 270, 90, shade(col, 0.85), 38)
    c.cylinder(260, 330, 640, 700, col, radius=26)
    c.ellipse(260, 300, 640, 360, fill=shade(col, 0.9), outline=rim, width=16)
    c.ellipse(285, 312, 615, 350, fill=shade(col, 0.6))
    if sum(col) > 450:
        c.line([(450, 450), (450, 600)], rim, 14)
        c.line([(410, 470), (490, 470)], rim, 12)
        c.arc(395, 520, 505, 615, 0, 180, rim, 14)


def tee(c, col, rnd, long=False):
    body = [(330, 250), (420, 220), (580, 220), (670, 250), (800, 330), (745, 440), (670, 400),
            (670, 780), (330, 780), (330, 400), (255, 440), (200, 330)]
    if long:
        body = [(330, 250), (420, 220), (580, 220), (670, 250), (760, 340), (800, 700), (730, 710), (670, 420),
                (670, 780), (330, 780), (330, 420), (270, 710), (200, 700), (240, 340)]
    c.polygon(body, col)
    c.polygon([(330, 400), (330, 780), (380, 780), (380, 420)], shade(col, 1.12))
    c.polygon([(620, 420), (670, 400), (670, 780), (620, 780)], shade(col, 0.85))
    c.arc(420, 170, 580, 280, 0, 180, shade(col, 0.7), 22)
    trim = accent(col)
    if long and sum(col) > 600:  # Breton stripes
        for y in range(300, 780, 44):
            c.rect(330, y, 670, y + 18, (31, 53, 89))
    else:  # the printed badge: a ring, with waves
        c.ellipse(440, 380, 560, 500, outline=trim, width=12)
        c.arc(455, 425, 505, 465, 200, 340, trim, 8)
        c.arc(495, 425, 545, 465, 200, 340, trim, 8)


def longsleeve(c, col, rnd):
    tee(c, col, rnd, long=True)


def sweater(c, col, rnd):
    tee(c, col, rnd, long=True)
    for y in range(300, 760, 36):  # the knit
        c.line([(350, y), (650, y)], shade(col, 0.8), 6)


def cap(c, col, rnd):
    c.ellipse(300, 560, 820, 660, fill=shade(col, 0.75))  # the brim
    c.draw.pieslice(c.box(240, 330, 700, 790), 180, 360, fill=col)
    c.draw.pieslice(c.box(240, 330, 700, 790), 180, 235, fill=shade(col, 1.18))
    c.line([(470, 330), (470, 560)], shade(col, 0.8), 8)
    c.ellipse(455, 318, 485, 345, fill=shade(col, 0.7))
    c.rect(260, 540, 690, 575, shade(col, 0.85), radius=10)


def beanie(c, col, rnd):
    c.draw.chord(c.box(290, 250, 710, 720), 180, 360, fill=col)
    c.rect(290, 470, 710, 640, shade(col, 0.88), radius=30)
    for x in range(310, 700, 34):
        c.line([(x, 480), (x, 630)], shade(col, 0.72), 8)
        c.line([(x, 300 + abs(500 - x) * 0.55), (x, 470)], shade(col, 0.9), 6)


def sunhat(c, col, rnd):
    c.ellipse(160, 480, 840, 680, fill=shade(col, 0.9))
    c.draw.chord(c.box(320, 300, 680, 700), 180, 360, fill=col)
    c.rect(320, 470, 680, 520, (80, 60, 40), radius=6)


def socks(c, col, rnd):
    for dx, tone in ((0, 0.85), (130, 1.0)):
        c.polygon([(300 + dx, 220), (420 + dx, 220), (420 + dx, 600), (330 + dx, 720), (230 + dx, 720),
                   (200 + dx, 660), (300 + dx, 560)], shade(col, tone))
        c.rect(300 + dx, 220, 420 + dx, 290, shade(col, tone * 0.8), radius=8)
        c.polygon([(200 + dx, 660), (230 + dx, 720), (300 + dx, 720), (270 + dx, 650)], (240, 232, 214))


def scarf(c, col, rnd):
    c.polygon([(340, 200), (460, 200), (520, 820), (400, 820)], col)
    c.polygon([(460, 200), (660, 240), (640, 330), (470, 300)], shade(col, 0.8))
    for x in range(405, 525, 16):
        c.line([(x, 820), (x - 4, 880)], shade(col, 0.7), 6)


def tote(c, col, rnd):
    trim = accent(col)
    c.arc(340, 160, 500, 460, 180, 360, shade(col, 0.7), 22)
    c.arc(500, 160, 660, 460, 180, 360, shade(col, 0.7), 22)
    c.polygon([(280, 320), (720, 320), (750, 800), (250, 800)], col)
    c.polygon([(600, 320), (720, 320), (750, 800), (630, 800)], shade(col, 0.88))
    if col[2] > col[0] and sum(col) < 500:  # striped
        for y in range(360, 800, 70):
            c.polygon([(276, y), (722, y), (725, y + 30), (273, y + 30)], (240, 240, 236))
    else:
        c.ellipse(430, 480, 570, 620, outline=trim, width=12)
        c.line([(500, 500), (500, 600)], trim, 10)


def duffel(c, col, rnd):
    c.rect(180, 400, 820, 720, col, radius=150)
    c.rect(200, 600, 800, 720, shade(col, 0.8), radius=110)
    c.line([(260, 420), (740, 420)], (201, 162, 39), 10)
    c.arc(380, 250, 620, 520, 180, 360, (90, 60, 40), 26)


def drybag(c, col, rnd):
    c.rect(330, 330, 670, 790, col, radius=90)
    c.rect(560, 360, 670, 770, shade(col, 0.85), radius=60)
    c.rect(310, 230, 690, 330, (40, 40, 40), radius=20)
    c.rect(360, 280, 640, 340, shade(col, 0.8), radius=10)
    c.rect(440, 420, 560, 460, (240, 240, 236), radius=8)


def pack(c, col, rnd):
    c.rect(300, 220, 700, 800, col, radius=120)
    c.rect(360, 520, 640, 760, shade(col, 0.9), radius=40)
    c.line([(360, 520), (640, 520)], (120, 120, 120), 8)
    c.rect(470, 300, 530, 460, (180, 40, 40), radius=6)  # the sail number's stripe


def pouch(c, col, rnd):
    c.rect(220, 380, 780, 700, col, radius=40)
    c.line([(240, 420), (760, 420)], (60, 60, 60), 12)
    c.rect(700, 400, 740, 460, (201, 162, 39), radius=8)
    c.draw.text(c.p(330, 500), "K 4217", fill=(200, 40, 50), font_size=int(90 * c.k))


def bottle(c, col, rnd):
    c.cylinder(380, 300, 620, 820, col, radius=70)
    c.rect(420, 230, 580, 310, shade(col, 0.8), radius=20)
    c.rect(430, 170, 570, 240, (60, 64, 70), radius=24)
    c.arc(540, 140, 620, 220, 270, 90, (60, 64, 70), 16)


def tumbler(c, col, rnd):
    c.polygon([(340, 320), (660, 320), (620, 780), (380, 780)], col)
    c.polygon([(560, 320), (660, 320), (620, 780), (545, 780)], shade(col, 0.82))
    c.rect(320, 270, 680, 330, (50, 50, 50), radius=20)


def flask(c, col, rnd):
    c.cylinder(370, 260, 630, 830, col, radius=60)
    c.rect(360, 200, 640, 290, (60, 64, 70), radius=26)
    c.rect(380, 520, 620, 560, shade(col, 0.7))


def cups(c, col, rnd):
    for x, y in ((230, 520), (430, 560), (630, 520)):
        c.arc(x + 130, y - 10, x + 200, y + 80, 270, 90, shade(col, 0.8), 18)
        c.cylinder(x, y - 60, x + 160, y + 120, col, radius=18)
        c.ellipse(x, y - 80, x + 160, y - 40, fill=shade(col, 0.85), outline=accent(col), width=8)


def plate(c, col, rnd):
    c.ellipse(190, 250, 810, 810, fill=accent(col))
    c.ellipse(210, 270, 790, 790, fill=col)
    c.ellipse(320, 380, 680, 680, fill=shade(col, 0.94))


def bowl(c, col, rnd):
    c.draw.chord(c.box(220, 220, 780, 820), 0, 180, fill=col)
    c.ellipse(220, 470, 780, 570, fill=shade(col, 0.85), outline=accent(col), width=14)
    c.ellipse(250, 485, 750, 555, fill=shade(col, 0.7))


def board(c, col, rnd):
    c.rect(160, 380, 760, 640, col, radius=40)
    for y in range(400, 640, 28):
        c.line([(190, y + rnd.randint(-6, 6)), (730, y + rnd.randint(-6, 6))], shade(col, 0.88), 5)
    c.ellipse(780, 470, 880, 550, outline=(200, 180, 140), width=16)


def tin(c, col, rnd):
    c.cylinder(340, 320, 660, 780, col, radius=14)
    c.rect(330, 280, 670, 350, shade(col, 0.7), radius=10)
    c.rect(360, 470, 640, 620, (240, 232, 214), radius=8)
    c.draw.text(c.p(400, 500), "TEA", fill=col, font_size=int(90 * c.k))


def towel(c, col, rnd):
    c.rect(270, 200, 730, 820, col, radius=8)
    colours = [(200, 40, 50), (31, 53, 89), (242, 190, 40), (30, 120, 70)]
    for i in range(12):
        x, y = 310 + (i % 3) * 140, 250 + (i // 3) * 140
        c.rect(x, y, x + 100, y + 100, colours[i % 4])
        c.rect(x + 30, y + 30, x + 70, y + 70, (240, 240, 236) if i % 2 else colours[(i + 1) % 4])


def notebook(c, col, rnd):
    c.rect(300, 200, 700, 800, shade(col, 0.7), radius=14)
    c.rect(310, 210, 690, 790, col, radius=12)
    c.rect(610, 210, 640, 790, shade(col, 0.7))  # the elastic band
    c.rect(380, 300, 580, 360, (240, 232, 214), radius=6)
    c.polygon([(480, 790), (510, 790), (510, 880), (495, 860), (480, 880)], (200, 40, 50))  # ribbon


def book(c, col, rnd):
    c.rect(290, 210, 710, 810, col, radius=10)
    c.rect(290, 210, 330, 810, shade(col, 0.7))
    for i, y in enumerate(range(320, 620, 50)):
        c.line([(380, y), (640 - (i % 3) * 60, y)], (240, 240, 236), 14)
    c.arc(380, 640, 640, 760, 180, 360, (240, 240, 236), 12)


def pen(c, col, rnd):
    c.polygon([(220, 700), (700, 260), (750, 310), (270, 750)], col)
    c.polygon([(220, 700), (270, 750), (190, 790)], shade(col, 0.7))
    c.polygon([(700, 260), (750, 310), (770, 260), (740, 230)], shade(col, 0.75))
    c.line([(520, 440), (630, 330)], shade(col, 1.3), 10)


def pencils(c, col, rnd):
    for i in range(6):
        x = 290 + i * 75
        body = [(200, 40, 50), (31, 53, 89), (30, 120, 70), (242, 190, 40), (40, 40, 40), (90, 60, 140)][i]
        c.rect(x, 260, x + 55, 700, body, radius=6)
        c.polygon([(x, 700), (x + 55, 700), (x + 27, 790)], (230, 200, 160))
        c.polygon([(x + 20, 765), (x + 35, 765), (x + 27, 790)], (40, 40, 40))


def postcards(c, col, rnd):
    for i, (dx, dy, tone) in enumerate(((-60, -40, 0.9), (0, 0, 1.0), (60, 40, 1.05))):
        c.rect(250 + dx, 300 + dy, 750 + dx, 640 + dy, (250, 248, 242), radius=6)
        c.rect(270 + dx, 320 + dy, 730 + dx, 620 + dy, shade((90, 150, 190), tone))
        c.polygon([(270 + dx, 560 + dy), (730 + dx, 520 + dy), (730 + dx, 620 + dy), (270 + dx, 620 + dy)],
                  shade((40, 80, 120), tone))


def stamp(c, col, rnd):
    c.rect(420, 220, 580, 520, col, radius=60)
    c.ellipse(390, 180, 610, 300, fill=shade(col, 1.1))
    c.rect(330, 520, 670, 600, shade(col, 0.8), radius=10)
    c.rect(340, 600, 660, 640, (40, 40, 40))


def blanket(c, col, rnd):
    for i, y in enumerate((560, 460, 360)):
        tone = 0.85 + i * 0.08
        c.rect(200, y, 800, y + 120, shade(col, tone), radius=40)
        c.line([(220, y + 40), (780, y + 40)], accent(col), 10)
        if sum(col) < 400:
            for x in range(260, 780, 90):
                c.line([(x, y + 6), (x, y + 114)], shade(accent(col), 0.9), 8)


def cushion(c, col, rnd):
    c.rect(230, 260, 770, 760, (240, 240, 236), radius=90)
    for x in range(280, 740, 80):
        c.rect(x, 280, x + 30, 740, col)
    c.rect(600, 280, 760, 740, (0, 0, 0, 40), radius=80)


def mat(c, col, rnd):
    c.rect(170, 320, 830, 720, col, radius=24)
    for y in range(350, 700, 40):
        for x in range(200, 800, 60):
            c.arc(x, y, x + 60, y + 40, 180, 360, shade(col, 0.8), 8)


def apron(c, col, rnd):
    c.polygon([(380, 220), (620, 220), (640, 400), (720, 450), (700, 830), (300, 830), (280, 450), (360, 400)], col)
    c.line([(380, 220), (340, 130)], (140, 90, 60), 14)
    c.line([(620, 220), (660, 130)], (140, 90, 60), 14)
    c.rect(340, 560, 660, 700, shade(col, 0.85), radius=10)
    c.line([(500, 560), (500, 700)], shade(col, 0.7), 8)


def poster(c, col, rnd, kind=0):
    c.rect(220, 130, 780, 870, (60, 50, 40), radius=6)  # the frame
    c.rect(245, 155, 755, 845, col)
    navy = (31, 53, 89)
    if kind == 0:  # a chart: coastline and soundings
        c.polygon([(245, 155), (520, 155), (470, 300), (380, 360), (330, 520), (245, 600)], (232, 214, 170))
        for _ in range(26):
            x, y = rnd.randrange(420, 730), rnd.randrange(320, 820)
            c.draw.text(c.p(x, y), str(rnd.randrange(2, 40)), fill=navy, font_size=int(26 * c.k))
        for r in (120, 200, 280):
            c.arc(245 - r, 155 - r, 245 + r, 155 + r, 0, 90, (120, 160, 190), 4)
    elif kind == 1:  # the lighthouse at night
        c.rect(245, 155, 755, 845, (24, 36, 62))
        c.polygon([(470, 380), (530, 380), (560, 760), (440, 760)], (240, 240, 236))
        for y in range(420, 760, 80):
            c.polygon([(467 - (y - 380) * 0.08, y), (533 + (y - 380) * 0.08, y),
                       (536 + (y - 380) * 0.08, y + 30), (464 - (y - 380) * 0.08, y + 30)], (200, 40, 50))
        c.polygon([(500, 360), (755, 260), (755, 330)], (250, 220, 120))
        c.rect(245, 760, 755, 845, (40, 70, 110))
    else:  # knots / flags in a grid
        for i in range(12):
            x, y = 300 + (i % 3) * 150, 220 + (i // 3) * 150
            c.rect(x, y, x + 100, y + 100, [(200, 40, 50), navy, (242, 190, 40), (30, 120, 70)][i % 4])
            c.ellipse(x + 30, y + 30, x + 70, y + 70, fill=(240, 240, 236))


def lighthouse(c, col, rnd):
    poster(c, col, rnd, kind=1)


def flags(c, col, rnd):
    poster(c, col, rnd, kind=2)


def calendar(c, col, rnd):
    c.rect(280, 150, 720, 850, (250, 248, 242), radius=6)
    c.rect(300, 170, 700, 460, (90, 150, 190))
    c.polygon([(300, 400), (700, 360), (700, 460), (300, 460)], (40, 80, 120))
    for i in range(35):
        x, y = 320 + (i % 7) * 54, 500 + (i // 7) * 64
        c.rect(x, y, x + 40, y + 40, (200, 205, 212) if i % 7 < 5 else (230, 160, 150), radius=4)


def keychain(c, col, rnd):
    c.ellipse(420, 170, 580, 330, outline=(201, 162, 39), width=18)
    c.line([(500, 330), (500, 480)], col, 30)
    c.ellipse(360, 460, 640, 740, fill=col)
    for a in range(0, 180, 30):
        x0 = 500 + 140 * math.cos(math.radians(a))
        y0 = 600 + 140 * math.sin(math.radians(a))
        c.line([(1000 - x0, 1200 - y0), (x0, y0)], shade(col, 0.75), 12)


def rope(c, col, rnd):
    for r in range(60, 330, 34):
        c.ellipse(500 - r, 560 - r * 0.7, 500 + r, 560 + r * 0.7, outline=shade(col, 0.8 + (r % 3) * 0.08),
                  width=30)
    c.line([(830, 560), (900, 760)], col, 30)


def lantern(c, col, rnd):
    c.arc(380, 120, 620, 360, 180, 360, (70, 70, 70), 14)
    c.rect(380, 240, 620, 300, col, radius=20)
    c.ellipse(360, 290, 640, 650, fill=(250, 236, 180), outline=(200, 200, 200), width=8)
    c.ellipse(455, 420, 545, 540, fill=(255, 200, 80))
    c.line([(380, 300), (380, 640)], col, 14)
    c.line([(620, 300), (620, 640)], col, 14)
    c.rect(340, 630, 660, 760, col, radius=30)


def flag(c, col, rnd):
    c.line([(260, 140), (260, 880)], (120, 90, 60), 22)
    c.polygon([(270, 180), (800, 330), (270, 480)], col)
    c.polygon([(270, 280), (600, 330), (270, 380)], (240, 240, 236))


def knife(c, col, rnd):
    c.rect(200, 470, 620, 560, (40, 40, 40), radius=40)
    c.polygon([(600, 480), (860, 500), (600, 550)], col)
    c.line([(610, 520), (850, 505)], shade(col, 1.3), 6)
    c.polygon([(260, 470), (200, 300), (230, 300), (300, 470)], shade(col, 0.9))
    c.ellipse(230, 490, 270, 530, fill=(201, 162, 39))


def compass(c, col, rnd):
    c.ellipse(250, 270, 750, 770, fill=col)
    c.ellipse(290, 310, 710, 730, fill=(250, 248, 242))
    c.polygon([(500, 350), (530, 520), (500, 690), (470, 520)], (31, 53, 89))
    c.polygon([(500, 350), (530, 520), (470, 520)], (200, 40, 50))
    c.ellipse(460, 200, 540, 280, outline=col, width=16)


def torch(c, col, rnd):
    c.polygon([(260, 430), (640, 430), (640, 590), (260, 590)], col)
    c.polygon([(640, 400), (780, 360), (780, 660), (640, 620)], shade(col, 0.85))
    c.ellipse(745, 360, 815, 660, fill=(250, 240, 200))
    c.rect(360, 440, 420, 580, (40, 40, 40), radius=10)


def bell(c, col, rnd):
    c.rect(470, 180, 530, 260, (90, 70, 40), radius=10)
    c.polygon([(420, 260), (580, 260), (640, 620), (700, 700), (300, 700), (360, 620)], col)
    c.polygon([(420, 260), (460, 260), (380, 700), (300, 700), (360, 620)], shade(col, 1.2))
    c.rect(290, 690, 710, 730, shade(col, 0.8), radius=10)
    c.ellipse(480, 720, 520, 790, fill=shade(col, 0.6))
    c.line([(500, 790), (520, 880)], (220, 200, 160), 12)


KINDS = ("mug", "tee", "longsleeve", "sweater", "cap", "beanie", "sunhat", "socks", "scarf", "tote", "duffel",
         "drybag", "pack", "pouch", "bottle", "tumbler", "flask", "cups", "plate", "bowl", "board", "tin", "towel",
         "notebook", "book", "pen", "pencils", "postcards", "stamp", "blanket", "cushion", "mat", "apron", "poster", "lighthouse", "flags",
         "calendar", "keychain", "rope", "lantern", "flag", "knife", "compass", "torch", "bell")
DRAW = {name: globals()[name] for name in KINDS}


# --- the scenes ---------------------------------------------------------------------------

def backdrop(kind, col, rnd):
    if kind == "planks":
        image = Image.new("RGB", (SIZE, SIZE), (150, 112, 76))
        d = ImageDraw.Draw(image)
        height = SIZE // 6
        for i in range(7):
            tone = shade((150, 112, 76), 0.86 + 0.16 * rnd.random())
            d.rectangle([0, i * height, SIZE, (i + 1) * height - 4], fill=tone)
            for _ in range(7):  # grain
                y = i * height + rnd.randrange(5, height - 10)
                d.line([(0, y), (SIZE, y + rnd.randrange(-15, 15))], fill=shade(tone, 0.9), width=2)
        return image
    top, bottom = ((246, 243, 238), (226, 222, 214)) if kind == "studio" else (shade(col, 1.82), shade(col, 1.6))
    ramp = Image.linear_gradient("L").resize((SIZE, SIZE), Image.BILINEAR)
    return Image.composite(Image.new("RGB", (SIZE, SIZE), bottom), Image.new("RGB", (SIZE, SIZE), top), ramp)


def picture(item, view):
    """One picture of a demo product as JPEG bytes. view: "front", "detail" or "deck"."""
    rnd = random.Random(seed_of(item.sku, view))
    col = rgb(item.colour)
    scene = {"front": "studio", "detail": "tint", "deck": "planks"}[view]
    scale, cx, cy = {"front": (0.92, 500, 520), "detail": (1.55, 440, 560), "deck": (0.62, 520, 540)}[view]
    image = backdrop(scene, col, rnd)
    subject = Canvas(W, scale=scale, cx=cx, cy=cy)
    DRAW[item.picture](subject, col, rnd)
    drawn = subject.image.reduce(SUPER)  # drawn at twice the size: smooth edges
    if view == "deck":
        drawn = drawn.rotate(rnd.uniform(-12, 12), resample=Image.BICUBIC)
    # A soft shadow under the subject: its silhouette, dropped, flattened and blurred (small, for speed).
    small = drawn.getchannel("A").resize((SIZE // 8, SIZE // 8))
    shadow = small.transform(small.size, Image.AFFINE, (1, 0, -4, 0, 1.25, -18))
    shadow = shadow.filter(ImageFilter.GaussianBlur(6)).point(lambda a: a * 0.35).resize((SIZE, SIZE))
    image.paste((0, 0, 0), (0, 0), shadow)
    image.paste(drawn, (0, 0), drawn)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=86, progressive=True)
    return out.getvalue()


def pictures(item):
    """[(view, alt text)] for a demo product: two or three pictures."""
    views = [("front", f"{item.name}"), ("detail", f"{item.name}, close-up")]
    if int(hashlib.sha1(item.sku.encode()).hexdigest(), 16) % 3:  # two products in three
        views.append(("deck", f"{item.name} on the deck"))
    return views


def seed_of(sku, view):
    return int(hashlib.sha1(f"{sku}:{view}".encode()).hexdigest()[:12], 16)
