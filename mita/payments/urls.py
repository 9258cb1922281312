from django.urls import path

from mita.payments import views, views_cashier

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="payment_list"),
    path("new/", views.payment_record, name="payment_record"),
    path("suspense/", views.suspense_list, name="suspense_list"),
    path("<int:payment_id>/", views.payment_detail, name="payment_detail"),
    path("<int:payment_id>/reprint/", views.receipt_reprint, name="receipt_reprint"),
    path("<int:payment_id>/void/", views.payment_void_view, name="payment_void"),
    path("<int:payment_id>/assign/", views.payment_assign_view, name="payment_assign"),
    path("accounts/<str:holder>/", views.account_detail, name="account_detail"),
]
urlpatterns += views_cashier.urlpatterns  # tills/, handovers/: cashier sessions and hand-overs
