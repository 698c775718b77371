from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.orders, name="orders"),
    path("addresses/", views.addresses, name="addresses"),
    path("addresses/<int:pk>/delete/", views.address_delete, name="address-delete"),
    path("delete/", views.delete_account, name="delete"),
]
