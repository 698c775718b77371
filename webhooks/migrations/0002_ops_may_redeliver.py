from django.contrib.auth.management import create_permissions
from django.db import migrations

# What the ops group may do with webhooks (as orders.ops_group.OPS_PERMISSIONS has it: frozen here).
WEBHOOKS_PERMISSIONS = ["view_subscriber", "view_delivery", "view_attempt", "redeliver_delivery"]


def grant(apps, schema_editor):
    db = schema_editor.connection.alias
    config = apps.get_app_config("webhooks")
    config.models_module = True  # a historical app config: create_permissions skips it otherwise
    create_permissions(config, apps=apps, verbosity=0, using=db)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(db).get_or_create(name="ops")
    group.permissions.add(*Permission.objects.using(db).filter(content_type__app_label="webhooks",
                                                               codename__in=WEBHOOKS_PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("orders", "0014_ops_may_export"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
