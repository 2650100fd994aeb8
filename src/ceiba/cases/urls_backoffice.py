from django.urls import path

from ceiba.cases import views_backoffice as views

app_name = "backoffice"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("cases/<uuid:case_id>/", views.case_detail, name="case"),
    path("cases/<uuid:case_id>/claim/", views.case_claim, name="claim"),
    path("cases/<uuid:case_id>/assign/", views.case_assign, name="assign"),
    path("cases/<uuid:case_id>/transition/", views.case_transition, name="transition"),
    path("cases/<uuid:case_id>/notes/", views.case_note, name="note"),
    path(
        "cases/<uuid:case_id>/documents/<uuid:document_id>/",
        views.case_document,
        name="document",
    ),
]
