from django.core.management.base import BaseCommand, CommandError

from orders.outbox import PUBLIC_TYPES
from webhooks import ssrf
from webhooks.models import Subscriber


class Command(BaseCommand):
    help = ("Add an outbound webhook subscriber: every event of the given types is POSTed to the URL, "
            f"signed with the secret. Types: {', '.join(PUBLIC_TYPES)}, or all.")

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--secret", required=True, help="Shared with the receiver; signs each delivery.")
        parser.add_argument("--events", required=True, help="Comma-separated event types, or all.")
        parser.add_argument("--description", default="")

    def handle(self, url, secret, events, description, **options):
        types = [t.strip() for t in events.split(",") if t.strip()]
        if types == ["all"]:
            types = ["*"]
        unknown = sorted(set(types) - set(PUBLIC_TYPES) - {"*"})
        if unknown or not types:
            raise CommandError(f"unknown event type(s): {', '.join(unknown) or '(none given)'}; "
                               f"choose from {', '.join(PUBLIC_TYPES)}, or all")
        if not secret.strip():
            raise CommandError("--secret must not be empty")
        try:
            ssrf.check(url)
        except ssrf.Refused as exc:
            raise CommandError(f"{url}: {exc}") from None
        subscriber = Subscriber.objects.create(url=url, secret=secret, events=types, description=description)
        self.stdout.write(f"Subscriber {subscriber.pk} added: {url} receives {', '.join(types)}.")
