import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orders.ops_group import GROUP_NAME, ensure_ops_group

PASSWORD_ENV = "DJANGO_OPS_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a staff user in the `ops` group (first making sure the group exists with its permissions: "
        "periodic tasks and schedules, task results, orders and their operations, products, stock; not users "
        "or money). An existing user is made staff and added to the group. The password comes from "
        f"--password, else the {PASSWORD_ENV} environment variable, else a prompt; with --no-input and "
        "neither, a new user gets an unusable password (set one with `manage.py changepassword`)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="the user's e-mail address")
        parser.add_argument("--password", help=f"the password (visible in the process list: prefer {PASSWORD_ENV})")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="never prompt")

    def handle(self, *args, username, email, password, interactive, **options):
        password = password or os.environ.get(PASSWORD_ENV) or None
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if password is None and interactive and user is None:
            password = self._prompt(User(**{User.USERNAME_FIELD: username, "email": email}))
        elif password is not None:
            self._validate(password, User(**{User.USERNAME_FIELD: username, "email": email}))
        with transaction.atomic():
            group = ensure_ops_group()
            created = user is None
            if created:
                user = User(**{User.USERNAME_FIELD: username})
            user.is_staff = True
            if email:
                user.email = email
            if password is not None:
                user.set_password(password)
            elif created:
                user.set_unusable_password()
            user.save()
            user.groups.add(group)
        what = "created" if created else "updated"
        self.stdout.write(self.style.SUCCESS(f"{what} staff user {username!r} in group {GROUP_NAME!r}"))
        if created and password is None:
            self.stdout.write(f"No password set: run `manage.py changepassword {username}` to set one.")

    def _prompt(self, user):
        while True:
            try:
                password, again = getpass.getpass("Password: "), getpass.getpass("Password (again): ")
            except (EOFError, KeyboardInterrupt) as exc:
                raise CommandError(f"No password given (use --no-input with {PASSWORD_ENV} to script this).") from exc
            if password != again:
                self.stderr.write("Passwords do not match.")
                continue
            try:
                self._validate(password, user)
            except CommandError as exc:
                self.stderr.write(str(exc))
                continue
            return password

    def _validate(self, password, user):
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
