from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from harbor.health import healthz, livez
from harbor.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus, from METRICS_ALLOWED_IPS only
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/", include("catalog.urls")),
    path("api/", include("shipping.urls")),
    path("api/", include("orders.urls")),
    path("api/", include("returns.urls")),
    path("payments/", include("orders.webhook_urls")),  # Stripe webhooks, applied by orders/
    path("accounts/", include("accounts.urls")),  # the shopper's account: My orders, addresses, deletion
    path("accounts/", include("allauth.urls")),  # sign up, log in and out, password, e-mail (django-allauth)
    path("", include("storefront.seo_urls")),  # /robots.txt, /sitemap.xml
    path("", include("storefront.urls")),  # the shop's pages, last: its paths are the short ones
]

handler400 = "harbor.api.bad_request"
handler403 = "harbor.api.permission_denied"
handler404 = "harbor.api.not_found"
handler500 = "harbor.api.server_error"
