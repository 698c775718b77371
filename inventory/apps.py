from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory: warehouses and stock"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from catalog import cache
        from inventory.models import Stock, Warehouse

        # Saves through the ORM (the admin, seed_catalog) move the catalog's cache on (what
        # shoppers see available); bulk updates (inventory.stock) call cache.changed() themselves.
        for model in (Stock, Warehouse):
            post_save.connect(lambda **kw: cache.changed(), sender=model, weak=False)
            post_delete.connect(lambda **kw: cache.changed(), sender=model, weak=False)
