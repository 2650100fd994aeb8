from django.urls import path

from ceiba.documents import views

app_name = "documents"

urlpatterns = [
    path("verify", views.verify, name="verify"),
    path("verify/root.pem", views.root_pem, name="root_pem"),
    path("verify/certificates.pem", views.certificates_pem, name="certificates_pem"),
    path("verify/revocations.json", views.revocations_json, name="revocations_json"),
    path("documents/", views.my_documents, name="list"),
    path("documents/<str:number>/download", views.download, name="download"),
    path("documents/<str:number>/revoke", views.revoke, name="revoke"),
]
