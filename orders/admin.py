from django.contrib import admin

from orders.models import Order, OrderEvent, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "product", "quantity", "unit_price"]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "from_status", "to_status", "actor", "message"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "email", "status", "total", "currency", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["id", "email"]
    # Status and money change only through the state machine / services, never by editing.
    readonly_fields = ["id", "status", "email", "shipping_address", "payment_method", "total", "currency",
                       "created_at", "updated_at"]
    inlines = [OrderLineInline, OrderEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
