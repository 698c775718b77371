from django.db import migrations

from harbor.migration_ops import grant_to_ops

# What the ops group may do with returns (as orders.ops_group.OPS_PERMISSIONS has it: frozen here).
RETURNS_PERMISSIONS = ["view_return", "view_returnline", "decide_return", "receive_return"]


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0001_initial"),
        ("orders", "0011_ops_group_warehouses"),
    ]

    operations = [migrations.RunPython(grant_to_ops("returns", RETURNS_PERMISSIONS), migrations.RunPython.noop)]
