from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant(apps, schema_editor):
    """Ops may export orders to CSV (orders.ops_group.OPS_PERMISSIONS)."""
    db = schema_editor.connection.alias
    config = apps.get_app_config("orders")
    config.models_module = True  # a historical app config: create_permissions skips it otherwise
    create_permissions(config, apps=apps, verbosity=0, using=db)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(db).get_or_create(name="ops")
    group.permissions.add(*Permission.objects.using(db).filter(content_type__app_label="orders",
                                                               codename="export_order"))


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0013_outboxevent'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='order',
            options={'ordering': ['-created_at'], 'permissions': [('retry_fulfillment', "Can retry an order's fulfillment"), ('cancel_order', 'Can cancel a pending order'), ('refund_order', 'Can request a refund of an order'), ('review_order', 'Can mark an order in needs_review as reviewed'), ('export_order', 'Can export orders to CSV')]},
        ),
        migrations.AlterField(
            model_name='outboxevent',
            name='dispatched_at',
            field=models.DateTimeField(blank=True, help_text='Last sent again by the sweep.', null=True),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
