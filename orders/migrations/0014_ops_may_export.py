from django.db import migrations, models

from harbor.migration_ops import grant_to_ops


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
        # Ops may export orders to CSV (orders.ops_group.OPS_PERMISSIONS).
        migrations.RunPython(grant_to_ops("orders", ["export_order"]), migrations.RunPython.noop),
    ]
