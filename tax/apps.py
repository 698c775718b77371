from django.apps import AppConfig


class TaxConfig(AppConfig):
    name = "tax"
    verbose_name = "Tax rates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from catalog import cache
        from tax.models import TaxRate

        for signal in (post_save, post_delete):  # checkout reads the rates from the cache (tax.rates)
            signal.connect(lambda **kw: cache.changed(cache.PRICING), sender=TaxRate, weak=False)
