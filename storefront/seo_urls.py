"""/robots.txt and /sitemap.xml, outside the storefront's namespace (Django's sitemap view
reverses its own name, "sitemap")."""

from django.contrib.sitemaps.views import sitemap
from django.urls import path
from django.views.decorators.cache import cache_control

from storefront.views import seo

urlpatterns = [
    path("robots.txt", seo.robots_txt, name="robots"),
    path("sitemap.xml", cache_control(public=True, max_age=3600)(sitemap), {"sitemaps": seo.SITEMAPS},
         name="sitemap"),
]
