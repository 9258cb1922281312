from django.urls import path

from mita.billing import urls_documents, views

app_name = "billing"
urlpatterns = [
    path("cycles/", views.cycle_list, name="cycle_list"),
    path("cycles/<int:cycle_id>/close/", views.cycle_close_view, name="cycle_close"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/new/", views.run_create_view, name="run_create"),
    path("runs/<int:bill_run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:bill_run_id>/approve/", views.run_approve_view, name="run_approve"),
    path("runs/<int:bill_run_id>/publish/", views.run_publish_view, name="run_publish"),
    path("runs/<int:bill_run_id>/resume/", views.run_resume_view, name="run_resume"),
    path("runs/<int:bill_run_id>/discard/", views.run_discard_view, name="run_discard"),
    path("bills/", views.bill_list, name="bill_list"),
    path("bills/<int:bill_id>/", views.bill_detail, name="bill_detail"),
    *urls_documents.urlpatterns,
]

from mita.billing import urls_corrections  # noqa: E402  (billing/corrections)

urlpatterns += urls_corrections.urlpatterns
