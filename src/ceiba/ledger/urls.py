from django.urls import path

from ceiba.ledger import views

app_name = "ledger"

urlpatterns = [
    path("ledger/checkpoint", views.checkpoint, name="checkpoint"),
    path("ledger/vkey", views.vkey, name="vkey"),
    path("my-data/", views.my_data, name="my_data"),
]
