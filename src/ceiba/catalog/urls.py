from django.urls import path

from ceiba.catalog import views

app_name = "catalog"

urlpatterns = [
    path("services/", views.service_list, name="services"),
    path("services/<str:code>/", views.service_detail, name="service"),
]
