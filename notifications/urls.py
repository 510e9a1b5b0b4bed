from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("urls/", views.urls_save, name="urls"),
    path("test/", views.test_send, name="test"),
    path("demo-inbox/", views.demo_inbox, name="demo_inbox"),
]
