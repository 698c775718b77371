"""The `ops` group: the admin for people who run the shop, not for people who own it.

Ops may: change Beat's periodic tasks and their schedules; view task results, orders (with
their lines, events, payment, shipments, e-mails), products, shipping methods, tax rates and
discount codes; run the order operations (retry fulfillment, cancel, request refund, mark
reviewed) and mark shipments shipped and delivered; export orders to CSV; approve, reject and
receive returns; change stock (`received`, per warehouse); read the webhook delivery log and
redeliver.
Ops may not: edit users or groups, or any money field (no change_product: unit_price is
money; nor shipping prices, tax rates or discount codes: a superuser sets those; order money is
read-only for everyone).

Created by migration orders/0005_ops_group (as orders/0011_ops_group_warehouses has it; the apps
above orders add theirs: returns/0002_ops_may_handle_returns, webhooks/0002_ops_may_redeliver;
orders/0014_ops_may_export adds the CSV export) and
ensured again by `manage.py create_ops_user`.
Changing this list needs a new data migration too (tests/test_ops.py compares the two).
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

GROUP_NAME = "ops"

OPS_PERMISSIONS = {
    "django_celery_beat": [
        f"{action}_{model}"
        for model in ("periodictask", "intervalschedule", "crontabschedule", "clockedschedule", "solarschedule")
        for action in ("add", "change", "delete", "view")
    ],
    "django_celery_results": ["view_taskresult", "view_groupresult"],
    "orders": ["view_order", "view_orderline", "view_orderevent", "view_shipment", "view_shipmentline",
               "retry_fulfillment", "cancel_order", "refund_order", "review_order", "ship_shipment", "export_order"],
    "payments": ["view_payment", "view_webhookevent"],
    "notifications": ["view_notification"],
    "catalog": ["view_product"],
    "inventory": ["view_warehouse", "view_stock", "change_stock", "view_allocation"],
    # Prices are the owner's (a superuser): ops see the shipping methods, tax rates and codes.
    "shipping": ["view_shippingzone", "view_shippingmethod", "view_weightbracket"],
    "tax": ["view_taxrate"],
    "discounts": ["view_voucher", "view_redemption"],
    # Returns: ops decide them and take the goods back (which refunds them).
    "returns": ["view_return", "view_returnline", "decide_return", "receive_return"],
    # Webhooks: ops read the delivery log and redeliver; who is sent the shop's orders (a
    # subscriber's URL and secret) is the owner's to decide.
    "webhooks": ["view_subscriber", "view_delivery", "view_attempt", "redeliver_delivery"],
}


def permission_names():
    """{"app_label.codename", ...}: the form user.has_perm() takes."""
    return {f"{app}.{codename}" for app, codenames in OPS_PERMISSIONS.items() for codename in codenames}


@transaction.atomic
def ensure_ops_group():
    """Create the group if missing and set its permissions to exactly OPS_PERMISSIONS."""
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    perms = []
    for app, codenames in OPS_PERMISSIONS.items():
        found = Permission.objects.filter(content_type__app_label=app, codename__in=codenames)
        missing = set(codenames) - {p.codename for p in found}
        if missing:
            raise LookupError(f"permissions missing for {app}: {sorted(missing)} (run `manage.py migrate`)")
        perms.extend(found)
    group.permissions.set(perms)
    return group
