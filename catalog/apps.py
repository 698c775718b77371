from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from catalog import cache
        from catalog.models import Product

        # Saves through the ORM (admin, seed_catalog) move the catalog's cache on (stock:
        # inventory/apps.py; its bulk updates call cache.changed() themselves).
        for model in (Product,):
            post_save.connect(lambda **kw: cache.changed(), sender=model, weak=False)
            post_delete.connect(lambda **kw: cache.changed(), sender=model, weak=False)
