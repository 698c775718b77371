from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator

from orders import shipping
from orders.management.commands._orders import get_shipment


class Command(BaseCommand):
    help = ("Mark a parcel shipped (handed to the carrier), as ops do in the admin: once its label "
            "is printed. --carrier-url gives the carrier's tracking page, which the order page links to.")

    def add_arguments(self, parser):
        parser.add_argument("shipment", help="the parcel's tracking number (HB…) or shipment id")
        parser.add_argument("--carrier-url", default="", help="the carrier's tracking page (https://…)")

    def handle(self, shipment, carrier_url, **options):
        if carrier_url:
            try:
                URLValidator(schemes=["http", "https"])(carrier_url)
            except ValidationError:
                raise CommandError(f"--carrier-url {carrier_url!r} is not an http(s) URL")
        parcel = get_shipment(shipment)
        try:
            outcome = shipping.mark_shipped(parcel, actor="manage.py mark_shipped", carrier_url=carrier_url)
        except shipping.ShipmentRefused as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"{parcel.tracking_number}: {outcome}")
