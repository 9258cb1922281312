from django.urls import path

from mita.payments import views, views_cashier, views_documents, views_settings

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="payment_list"),
    path("new/", views.payment_record, name="payment_record"),
    path("suspense/", views.suspense_list, name="suspense_list"),
    path("settings/", views_settings.payment_settings_view, name="settings"),
    path("<int:payment_id>/", views.payment_detail, name="payment_detail"),
    path("<int:payment_id>/reprint/", views.receipt_reprint, name="receipt_reprint"),
    path("<int:payment_id>/void/", views.payment_void_view, name="payment_void"),
    path("<int:payment_id>/assign/", views.payment_assign_view, name="payment_assign"),
    path("accounts/<str:holder>/", views.account_detail, name="account_detail"),
    path("<int:payment_id>/receipt.pdf", views_documents.receipt_pdf_view, name="receipt_pdf"),
    path("<int:payment_id>/reprint.pdf", views_documents.receipt_reprint_pdf, name="receipt_reprint_pdf"),
    path("accounts/<str:holder>/statement/", views_documents.statement_page, name="statement"),
    path("accounts/<str:holder>/statement.pdf", views_documents.statement_pdf_view, name="statement_pdf"),
]
urlpatterns += views_cashier.urlpatterns  # tills/, handovers/: cashier sessions and hand-overs
