from returns import services
from returns.management.commands._returns import ReturnStepCommand


class Command(ReturnStepCommand):
    help = "Approve a requested return, as ops do in the admin: the shopper is told to send the goods."
    name = "approve_return"
    step = services.approve
