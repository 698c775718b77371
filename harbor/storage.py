"""Files in PostgreSQL: a Django Storage for files that every host must read (the shipping
labels), where one host's disk would do for one machine only.

A worker on host Y renders a label; web on host X serves it. With the files in the database
they share nothing but PostgreSQL, which they share already. STORAGES["labels"] picks the
backend (LABEL_STORAGE, harbor/settings.py): this one by default, or object storage through
django-storages (docs/configuration.md).

Why the database does well here: a label is written in the transaction that records it
(orders/shipping.py, under the shipment's row lock), so a rolled-back render leaves no file
behind and a committed shipment always has its bytes; and a name is unique in the table, so
two saves of one name can never clobber each other, whichever host they run on.

Files written to MEDIA_ROOT before this storage existed are still read from there (the
fallback below): an upgraded shop keeps serving its old labels from the host that has them.
"""

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import IntegrityError, transaction
from django.utils.deconstruct import deconstructible

from harbor.models import StoredFile


def label_storage():
    """The shipping labels' storage (Shipment.label's `storage=`): STORAGES["labels"]. A
    callable, so the migration names it, not whichever backend the settings chose."""
    return storages["labels"]


@deconstructible(path="harbor.storage.DatabaseStorage")
class DatabaseStorage(Storage):
    """Each file a harbor.StoredFile row. `disk_fallback`: names not in the table are read
    from MEDIA_ROOT (files saved before the upgrade); new files always go to the table."""

    def __init__(self, using="default", disk_fallback=True):
        self.using = using
        self.disk = FileSystemStorage() if disk_fallback else None  # MEDIA_ROOT, read lazily

    def _rows(self):
        return StoredFile.objects.using(self.using)

    def _open(self, name, mode="rb"):
        if any(flag in mode for flag in "wa+"):
            raise ValueError("DatabaseStorage files are written with save(), never opened for writing")
        content = self._rows().filter(name=name).values_list("content", flat=True).first()
        if content is None:
            if self.disk is not None and self.disk.exists(name):
                return self.disk.open(name, mode)
            raise FileNotFoundError(f"no stored file {name!r}")
        return ContentFile(bytes(content), name=name)

    def _save(self, name, content):
        """Store under `name`, or under another free name if it is taken: a file is never
        overwritten. Storage.save() already chose a name that did not exist, but a concurrent
        save (another worker, another host) may have committed that same name since. The
        INSERT then waits for it and fails on the unique name (in a savepoint, so the caller's
        transaction goes on), and this save takes a new name, as FileSystemStorage does when
        its O_EXCL open finds the file there."""
        data = b"".join(chunk.encode() if isinstance(chunk, str) else chunk for chunk in content.chunks())
        while True:
            try:
                with transaction.atomic(using=self.using):
                    self._rows().create(name=name, content=data, size=len(data))
                return name
            except IntegrityError:
                name = self.get_available_name(name)

    def exists(self, name):
        return self._rows().filter(name=name).exists() or (self.disk is not None and self.disk.exists(name))

    def delete(self, name):
        self._rows().filter(name=name).delete()
        if self.disk is not None:
            self.disk.delete(name)

    def _column(self, name, column, on_disk):
        """The file's `column` from its row; for a file only on disk, `on_disk(name)`."""
        value = self._rows().filter(name=name).values_list(column, flat=True).first()
        if value is None and self.disk is not None and self.disk.exists(name):
            return on_disk(name)
        if value is None:
            raise FileNotFoundError(f"no stored file {name!r}")
        return value

    def size(self, name):
        return self._column(name, "size", lambda n: self.disk.size(n))

    def listdir(self, path):
        """(directories, files) directly under `path`, from the table and the disk fallback."""
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        directories, files = set(), set()
        for name in self._rows().filter(name__startswith=prefix).values_list("name", flat=True):
            head, _, tail = name[len(prefix):].partition("/")
            (directories if tail else files).add(head)
        if self.disk is not None and self.disk.exists(prefix or "."):
            disk_directories, disk_files = self.disk.listdir(prefix or ".")
            directories.update(disk_directories)
            files.update(disk_files)
        return sorted(directories), sorted(files)

    def get_created_time(self, name):
        return self._column(name, "created_at", lambda n: self.disk.get_created_time(n))

    get_modified_time = get_created_time  # a stored file is never changed

    def url(self, name):
        # Private files: served only by views that check who asks (the label's capability URL,
        # the admin's label view), never at a public URL.
        raise NotImplementedError("DatabaseStorage files have no public URL; serve them through a view")
