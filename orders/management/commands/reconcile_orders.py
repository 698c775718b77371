from django.core.management.base import BaseCommand

from orders.reconcile import reconcile


class Command(BaseCommand):
    help = (
        "Run reconciliation now (what Beat's reconcile_stuck_orders does): re-enqueue orders stuck in "
        "pending or paid for longer than RECONCILE_AFTER, send orders past the attempt cap to needs_review, "
        "and print what was done."
    )

    def handle(self, *args, **options):
        done = reconcile()
        if not done:
            self.stdout.write("reconcile: nothing stuck")
        for action, count in sorted(done.items()):
            self.stdout.write(f"reconcile: {action}: {count}")
