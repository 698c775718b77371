from django.conf import settings
from django.db import models


class Address(models.Model):
    """A shipping address the shopper used, kept for their next checkout (which is pre-filled
    with the one used last). Saved when a signed-in shopper places an order; deleted with the
    account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    name = models.CharField(max_length=100)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2)
    last_used_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country")

    class Meta:
        ordering = ["-last_used_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "name", "line1", "line2", "city", "region",
                                                       "postal_code", "country"], name="address_once_per_user")]

    def __str__(self):
        return ", ".join(part for part in (self.name, self.line1, self.city, self.country) if part)

    def as_dict(self):
        return {field: getattr(self, field) for field in self.FIELDS}
