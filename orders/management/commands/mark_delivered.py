from django.core.management.base import BaseCommand, CommandError

from orders import shipping
from orders.management.commands._orders import get_shipment


class Command(BaseCommand):
    help = "Mark a shipped parcel delivered, as ops do in the admin."

    def add_arguments(self, parser):
        parser.add_argument("shipment", help="the parcel's tracking number (HB…) or shipment id")

    def handle(self, shipment, **options):
        parcel = get_shipment(shipment)
        try:
            outcome = shipping.mark_delivered(parcel, actor="manage.py mark_delivered")
        except shipping.ShipmentRefused as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"{parcel.tracking_number}: {outcome}")
