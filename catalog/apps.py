from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from catalog import cache, images
        from catalog.models import Category, Product, ProductImage

        # Saves through the ORM (admin, seed_catalog) move the catalog's cache on (stock:
        # inventory/apps.py; its bulk updates call cache.changed() themselves).
        for model in (Product, Category, ProductImage):
            post_save.connect(lambda **kw: cache.changed(), sender=model, weak=False)
            post_delete.connect(lambda **kw: cache.changed(), sender=model, weak=False)

        def picture_saved(instance, raw=False, update_fields=None, **kwargs):
            # A new or replaced picture gets its thumbnails once it is committed (catalog/images.py).
            if not raw and (update_fields is None or "image" in update_fields):
                images.refresh_on_commit(instance)

        post_save.connect(picture_saved, sender=ProductImage, weak=False)
