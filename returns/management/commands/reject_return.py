from returns import services
from returns.management.commands._returns import ReturnStepCommand


class Command(ReturnStepCommand):
    help = "Reject a requested (or approved) return, as ops do in the admin; --note tells the shopper why."
    name = "reject_return"
    step = services.reject

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--note", default="", help="why (kept on the return and e-mailed)")

    def options_for_step(self, options):
        return {"note": options["note"]}
