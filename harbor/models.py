"""The platform's own table: files kept in PostgreSQL (harbor/storage.py)."""

from django.db import models


class StoredFile(models.Model):
    """One file of a DatabaseStorage: its name (unique, as a path is on a disk) and its bytes.
    Every web and worker host reads the same rows, so a file one host writes another serves."""

    name = models.CharField(max_length=255, unique=True)
    content = models.BinaryField()  # bytea; labels are tens of KiB
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "harbor_stored_file"

    def __str__(self):
        return self.name
