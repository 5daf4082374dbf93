from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("lexicons/", views.lexicon_list, name="lexicon_list"),
    path("lexicons/<int:pk>/", views.lexicon_detail, name="lexicon_detail"),
    path("lexicons/<int:pk>/terms/", views.lexicon_terms, name="lexicon_terms"),
    path("lexicons/<int:pk>/terms/<int:term_pk>/remove/", views.lexicon_term_remove, name="lexicon_term_remove"),
    path("lexicons/<int:pk>/import/", views.lexicon_terms_import, name="lexicon_terms_import"),
    path("would-have-caught/", views.would_have_caught, name="would_have_caught"),
    path("try/", views.try_it, name="try_it"),
]
