"""The `ops` group: what ops staff may do in the admin (orders/ops_group.py explains it).

The permission list is frozen here as it stood when this migration was written; a later
change to orders.ops_group.OPS_PERMISSIONS needs a new migration (tests/test_ops.py checks
that the group after migrating equals that list). On a fresh database post_migrate has not
created any Permission rows yet, so they are created here first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPS_PERMISSIONS = {
    "django_celery_beat": [
        f"{action}_{model}"
        for model in ("periodictask", "intervalschedule", "crontabschedule", "clockedschedule", "solarschedule")
        for action in ("add", "change", "delete", "view")
    ],
    "django_celery_results": ["view_taskresult", "view_groupresult"],
    "orders": ["view_order", "view_orderline", "view_orderevent", "view_shipment",
               "retry_fulfillment", "cancel_order", "refund_order", "review_order"],
    "payments": ["view_payment", "view_webhookevent"],
    "notifications": ["view_notification"],
    "catalog": ["view_product", "view_stock", "change_stock"],
}


def create_ops_group(apps, schema_editor):
    db = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        # Historical app configs have no models module, which create_permissions skips.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=db)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(db).get_or_create(name="ops")
    wanted = [(app, codename) for app, codenames in OPS_PERMISSIONS.items() for codename in codenames]
    perms = [Permission.objects.using(db).get(content_type__app_label=app, codename=codename)
             for app, codename in wanted]
    group.permissions.set(perms)


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0003_webhookevent"),
        ("orders", "0004_alter_order_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0002_stock_received"),
        ("payments", "0002_payment_refund_id_payment_refunded_at"),
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("django_celery_results", "0014_alter_taskresult_status"),
    ]

    operations = [migrations.RunPython(create_ops_group, migrations.RunPython.noop)]
