from django.urls import path

from syncing import views

app_name = "syncing"
urlpatterns = [
    path("webhooks/tautulli/", views.tautulli_webhook, name="tautulli_webhook"),
    path("sync-now/", views.sync_now, name="sync_now"),
]
