"""The order's e-mails on its admin page: orders/ knows nothing of notifications (it sits below),
so this app adds its inline to the order admin, as returns/ does."""

from django.contrib import admin

from orders.admin import OrderAdmin
from orders.admin_inlines import ReadOnlyInline
from notifications.models import Notification


class NotificationInline(ReadOnlyInline, admin.TabularInline):
    model = Notification
    fields = ["kind", "ref", "to", "subject", "sent_at", "failed_at", "error", "message_id", "created_at"]
    verbose_name_plural = "e-mails"


OrderAdmin.inlines = [*OrderAdmin.inlines, NotificationInline]
