"""Pages compressed for the browsers that ask (Accept-Encoding: gzip): the shop's HTML.

Django's GZipMiddleware, for HTML only: a page of sixty product cards is 5-10 times smaller
compressed, which is what a phone on a slow network waits for. Django pads each compressed
response with random bytes against BREACH, and CSRF tokens are masked per response. The JSON
API is left as it is (its lists are cached as text and are small; its clients are programs), as
are static files (WhiteNoise serves them precompressed) and label PDFs.
"""

from django.middleware.gzip import GZipMiddleware


class HTMLGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
