"""Product pictures as the storefront serves them: square thumbnails in several widths, WebP
with a JPEG fallback, made by sorl-thumbnail (Pillow) and stored in the `catalog` storage
(MEDIA_ROOT/catalog/ by default, or S3 through django-storages: docs/configuration.md).

Thumbnails are made when a picture is saved (the admin, `seed_catalog`), never while a page
renders: `refresh()` asks sorl-thumbnail for every width and format and records their storage
names on the ProductImage (`renditions`), so a page with sixty pictures costs no image work
and no lookup beyond its own query. `srcsets()` turns them into `srcset` attributes; the
browser picks the width it needs from the page's `sizes`.
"""

import functools
import logging

from django.core.files.storage import storages
from django.db import transaction

logger = logging.getLogger(__name__)

# Widths (px) of the square thumbnails: a 64 px cart line, a 240 px card and a 500 px gallery
# picture, on screens of 1x to 3x density, each find one close to what they show (the browser
# picks from the page's `sizes`). Each width costs a WebP and a JPEG per picture, made on save.
WIDTHS = (120, 240, 480, 960)
# (key, sorl options). The first is offered first (<source type="image/webp">); the last is
# the <img>'s own, for browsers without WebP.
FORMATS = (
    ("webp", {"format": "WEBP", "quality": 78}),
    ("jpeg", {"format": "JPEG", "quality": 80, "progressive": True}),
)
MIME = {"webp": "image/webp", "jpeg": "image/jpeg"}


def storage():
    return storages["catalog"]


def render(image_field):
    """Make (or find) every thumbnail of an uploaded picture: {format: [[name, width], ...]}."""
    from sorl.thumbnail import get_thumbnail

    largest = min(image_field.width or max(WIDTHS), image_field.height or max(WIDTHS))
    widths = [w for w in WIDTHS if w <= largest] or [largest]
    made = {}
    for key, options in FORMATS:
        made[key] = []
        for width in widths:
            thumbnail = get_thumbnail(image_field, f"{width}x{width}", crop="center", upscale=False, **options)
            made[key].append([thumbnail.name, width])
    return made


def refresh(image):
    """Make the picture's thumbnails and record them on it (one UPDATE: no signal, no loop)."""
    from catalog.models import ProductImage

    try:
        renditions = render(image.image)
    except Exception:  # a broken upload: the page shows the product without it, ops see the log
        logger.exception("could not make the thumbnails of product picture %s (%s)", image.pk, image.image.name)
        renditions = {}
    ProductImage.objects.filter(pk=image.pk).update(renditions=renditions)
    image.renditions = renditions
    from catalog import cache

    cache.changed()


def refresh_on_commit(image):
    transaction.on_commit(lambda: refresh(image), robust=True)


def srcsets(renditions):
    """{"webp": "url 120w, url 240w, …", "jpeg": …, "src": a middle-sized JPEG's url}, or None."""
    if not renditions or not renditions.get("jpeg"):
        return None
    where = storage()
    frozen = tuple((key, tuple(tuple(item) for item in renditions.get(key, []))) for key, _ in FORMATS)
    return dict(_srcsets(where, frozen))  # a copy: callers may keep or change theirs


@functools.lru_cache(maxsize=4096)
def _srcsets(where, frozen):
    # Memoized per storage and set of thumbnail names: a home page shows sixty pictures of ten
    # thumbnails each, and building each URL (storage.url: urljoin, quoting) was a tenth of the
    # page's time. The names change when a picture does (renditions), so the cache never goes stale.
    found = dict(frozen)
    sets = {key: ", ".join(f"{where.url(name)} {width}w" for name, width in found.get(key, ()))
            for key, _ in FORMATS}
    jpegs = found["jpeg"]
    sets["src"] = where.url(jpegs[min(len(jpegs) - 1, 2)][0])  # 480 px: for what reads only src
    sets["largest"] = where.url(jpegs[-1][0])
    return tuple(sets.items())
