from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Shipping zones and methods"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_migrate, post_save

        from catalog import cache
        from shipping.models import ShippingMethod, ShippingZone, WeightBracket

        # Checkout reads zones, methods and brackets from the cache (shipping.rates): any
        # change through the ORM (the admin, seed_catalog) moves that cache on.
        for model in (ShippingZone, ShippingMethod, WeightBracket):
            post_save.connect(lambda **kw: cache.changed(cache.PRICING), sender=model, weak=False)
            post_delete.connect(lambda **kw: cache.changed(cache.PRICING), sender=model, weak=False)
        # migrate and flush change tables behind the ORM's back.
        post_migrate.connect(lambda **kw: cache.changed(cache.PRICING), sender=self, weak=False)
