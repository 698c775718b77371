"""What search engines read: /robots.txt and /sitemap.xml (the home page, every department,
every product for sale)."""

from django.contrib.sitemaps import Sitemap
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from catalog.models import Category, Product

# Not for crawlers: staff pages, the JSON API, the account pages, the checkout's fragments.
# (The cart, checkout and order pages stay crawlable: there is nothing to hide there, and a
# page blocked to crawlers counts against it in search engines' audits.)
DISALLOWED = ["/admin/", "/api/", "/accounts/", "/checkout/pricing/", "/checkout/payment/"]


@require_GET
@cache_control(public=True, max_age=3600)
def robots_txt(request):
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "",
             f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


class HomeSitemap(Sitemap):
    priority = 1.0
    changefreq = "daily"

    def items(self):
        return ["storefront:catalog"]

    def location(self, item):
        return reverse(item)


class CategorySitemap(Sitemap):
    priority = 0.7
    changefreq = "weekly"

    def items(self):
        return Category.objects.order_by("position", "pk")

    def location(self, category):
        return reverse("storefront:category", args=[category.slug])

    def lastmod(self, category):
        return category.updated_at


class ProductSitemap(Sitemap):
    priority = 0.8
    changefreq = "weekly"

    def items(self):
        return Product.objects.filter(active=True).order_by("sku")

    def location(self, product):
        return reverse("storefront:product", args=[product.sku])

    def lastmod(self, product):
        return product.updated_at


SITEMAPS = {"home": HomeSitemap, "categories": CategorySitemap, "products": ProductSitemap}
