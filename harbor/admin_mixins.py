class ReadOnlyAdminMixin:
    """A ModelAdmin for records that change only through services (or never): nobody adds,
    edits or deletes them in the admin, whatever their permissions say."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
