"""sorl-thumbnail's key-value store, which the catalog does not need: a store that keeps nothing.

sorl remembers each thumbnail it made (and its source's size) in a store, so that a template
asking for it again costs no image work. Harbor's pages never ask sorl: the thumbnails' names
are recorded on each ProductImage when it is saved (catalog/images.py), so the store would
only be written, at the cost of database round trips and of decoding each source once more
to learn its size. Without it, sorl makes a thumbnail unless its file exists already (its name
is a hash of the source's name and the options), which is all the catalog wants. (sorl's own
store would also put a marker class into the cache, which Harbor's JSON-only cache refuses.)
"""

from sorl.thumbnail.kvstores.base import KVStoreBase


class KVStore(KVStoreBase):
    _cached_db_kvstore = True  # not deprecated: it is the configured cache that it does not use

    def get(self, image_file):
        return None

    def set(self, image_file, source=None):
        pass

    def get_or_set(self, image_file):
        return image_file

    def delete(self, image_file, delete_thumbnails=True):
        pass

    def _get_raw(self, key):
        return None

    def _set_raw(self, key, value):
        pass

    def _delete_raw(self, *keys):
        pass

    def _find_keys_raw(self, prefix):
        return []
