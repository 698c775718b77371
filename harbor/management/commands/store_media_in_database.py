from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from harbor.models import StoredFile


class Command(BaseCommand):
    help = ("Copy the files under MEDIA_ROOT/<folder> (default labels) into the database storage "
            "(harbor/storage.py) under the same names, so every web host serves them, not only the one "
            "whose disk has them. Idempotent: a name already stored is left as it is; the files on disk stay.")

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", default="labels", help="folder under MEDIA_ROOT (default labels)")

    def handle(self, *args, folder, **options):
        root = Path(settings.MEDIA_ROOT)
        copied = kept = 0
        for path in sorted(p for p in (root / folder).rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            if StoredFile.objects.filter(name=name).exists():
                kept += 1
                continue
            content = path.read_bytes()
            # ignore_conflicts: a name stored meanwhile (by another run) is kept, never overwritten.
            StoredFile.objects.bulk_create([StoredFile(name=name, content=content, size=len(content))],
                                           ignore_conflicts=True)
            copied += 1
        self.stdout.write(f"stored {copied} file(s) from {root / folder} in the database; {kept} were already there")
