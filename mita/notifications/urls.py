from django.urls import path

from mita.notifications import views

app_name = "notifications"
urlpatterns = [
    path("outbox/", views.outbox_list, name="outbox_list"),
    path("outbox/<int:message_id>/", views.outbox_detail, name="outbox_detail"),
    path("outbox/<int:message_id>/send-again/", views.outbox_send_again, name="outbox_send_again"),
    path("at/delivery/<str:secret>/", views.at_delivery_report, name="at_delivery_report"),
]
