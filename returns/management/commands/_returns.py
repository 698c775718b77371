"""What the return commands share (a leading underscore: not a command itself)."""

from django.core.management.base import BaseCommand, CommandError

from returns import services


class ReturnStepCommand(BaseCommand):
    step = None  # a returns.services function: (return_id, actor, **options)
    done = ""

    def add_arguments(self, parser):
        parser.add_argument("return_id", help="the return's id (the admin's Returns list, or the API's `id`)")

    def options_for_step(self, options):
        return {}

    def handle(self, return_id, **options):
        if not return_id.isdigit():
            raise CommandError(f"no return {return_id!r}")
        try:
            ret = type(self).step(int(return_id), actor=f"manage.py {self.name}", **self.options_for_step(options))
        except services.ReturnRefused as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"return {ret.pk} of {ret.order.reference}: {self.describe(ret)}")

    def describe(self, ret):
        return ret.status
