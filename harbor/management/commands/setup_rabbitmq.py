from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from kombu.exceptions import OperationalError

from harbor import brokers, rabbitmq


class Command(BaseCommand):
    help = ("Idempotently set up the RabbitMQ broker in use (CELERY_BROKER_URL / RABBITMQ_URL): the three "
            "quorum queues on topic exchanges, the dead-letter exchange harbor.dlx with the queue "
            "dead_letters, and the policy 'harbor-dlx' (dead-letter to harbor.dlx, at least once, after "
            "--delivery-limit deliveries), through RABBITMQ_MANAGEMENT_URL or rabbitmqctl. With a cluster (a "
            "';' list of its nodes' URLs) it uses the first node that answers, and shows each quorum queue's "
            "replicas.")

    def add_arguments(self, parser):
        parser.add_argument("--delivery-limit", type=int, default=rabbitmq.DELIVERY_LIMIT,
                            help="deliveries of one message before it is dead-lettered (default %(default)s)")

    def handle(self, *args, delivery_limit, **options):
        url = settings.CELERY_BROKER_URL
        if not settings.BROKER_IS_AMQP:
            raise CommandError(f"the broker is not RabbitMQ ({url.split('://')[0]}://): nothing to set up")
        try:
            declared = rabbitmq.declare(url)
        except OperationalError as exc:
            raise CommandError(f"cannot reach RabbitMQ at {brokers.safe(url)}: {exc}")
        except Exception as exc:  # PRECONDITION_FAILED: a queue exists with other arguments
            raise CommandError(f"{exc}\nAn existing queue or exchange differs (e.g. a classic queue, a direct "
                               "exchange): drain and delete it, or use a fresh vhost, then run this again.")
        self.stdout.write(f"declared: {', '.join(declared)}, exchange {rabbitmq.DEAD_LETTER_EXCHANGE}")
        try:
            how = rabbitmq.apply_policy(url, settings.RABBITMQ_MANAGEMENT_URL, delivery_limit)
        except Exception as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"policy {rabbitmq.POLICY} on {rabbitmq.pattern()} (vhost {rabbitmq.vhost_of(url)}, "
                          f"via {how}): {rabbitmq.policy_definition(delivery_limit)}")
        self.show_replicas(url)

    def show_replicas(self, url):
        """Where each quorum queue's replicas are; a warning for a queue on fewer nodes than
        RabbitMQ's default of min(3, cluster nodes), e.g. declared while the cluster was forming."""
        try:
            found = rabbitmq.replicas(url, settings.RABBITMQ_MANAGEMENT_URL)
        except Exception as exc:  # only a report: the set-up itself is done
            self.stderr.write(f"replicas unknown ({exc.__class__.__name__}: {exc})")
            return
        if found is None:
            return
        members, nodes = found
        wanted = min(3, len(nodes))
        for queue, on in members.items():
            self.stdout.write(f"replicas of {queue}: {', '.join(on) or 'none'}")
            if len(on) < wanted:
                missing = sorted(set(nodes) - set(on))
                self.stderr.write(f"WARNING: {queue} has {len(on)} of {wanted} replicas; add them with: "
                                  + "; ".join(f"rabbitmq-queues add_member -p {rabbitmq.vhost_of(url)} {queue} {node}"
                                              for node in missing[:wanted - len(on)]))
