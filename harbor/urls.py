from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from harbor.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/", include("catalog.urls")),
    path("api/", include("orders.urls")),
    path("payments/", include("payments.urls")),
]

handler400 = "harbor.api.bad_request"
handler403 = "harbor.api.permission_denied"
handler404 = "harbor.api.not_found"
handler500 = "harbor.api.server_error"
