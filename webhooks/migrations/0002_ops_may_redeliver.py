from django.db import migrations

from harbor.migration_ops import grant_to_ops

# What the ops group may do with webhooks (as orders.ops_group.OPS_PERMISSIONS has it: frozen here).
WEBHOOKS_PERMISSIONS = ["view_subscriber", "view_delivery", "view_attempt", "redeliver_delivery"]


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("orders", "0014_ops_may_export"),
    ]

    operations = [migrations.RunPython(grant_to_ops("webhooks", WEBHOOKS_PERMISSIONS), migrations.RunPython.noop)]
