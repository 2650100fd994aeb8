from django.urls import path

from ceiba.cases import views

app_name = "portal"

urlpatterns = [
    path("services/<str:code>/apply/", views.start, name="start"),
    path("applications/", views.application_list, name="applications"),
    path("applications/<uuid:case_id>/", views.application_detail, name="application"),
    path("applications/<uuid:case_id>/step/<int:step_number>/", views.step, name="step"),
    path("applications/<uuid:case_id>/documents/", views.documents, name="documents"),
    path("applications/<uuid:case_id>/review/", views.review, name="review"),
    path("applications/<uuid:case_id>/submit/", views.submit, name="submit"),
    path("applications/<uuid:case_id>/receipt/", views.receipt, name="receipt"),
    path("applications/<uuid:case_id>/respond/", views.respond, name="respond"),
    path("applications/<uuid:case_id>/withdraw/", views.withdraw, name="withdraw"),
]
