"""The catalog's pictures and thumbnails, /media/catalog/<path>, when they live on this
server's disk (the default `catalog` storage; with S3 their URLs point there instead).

Only the catalog's folder is served: the rest of MEDIA_ROOT holds private files (shipping
labels from before they moved to PostgreSQL, served only through their order's capability URL). A thumbnail's name is a hash of
its source and options, and an upload never overwrites another, so a file at a path never
changes: browsers and proxies may keep it for a year.
"""

from django.conf import settings
from django.http import Http404
from django.views.decorators.http import require_GET
from django.views.static import serve

from catalog.images import storage

MAX_AGE = 365 * 24 * 3600


@require_GET
def catalog_file(request, path):
    where = storage()
    location = getattr(where, "location", None)
    if location is None:  # not on this server's disk (S3): its own URLs are used, not this view
        raise Http404()
    response = serve(request, path, document_root=location)  # refuses paths outside it ("..")
    response["Cache-Control"] = f"public, max-age={MAX_AGE}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


PREFIX = f"{settings.MEDIA_URL.strip('/')}/catalog/"
