from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # any failure means "cannot serve"
        return False


def _broker_ok():
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            if settings.CELERY_BROKER_URL.startswith("redis"):
                conn.default_channel.client.ping()
        return True
    except Exception:
        return False


@never_cache
@require_GET
def healthz(request):
    """200 when the site can serve and reach its broker; 503 naming the failing part otherwise."""
    result = {
        "status": "ok",
        "database": "ok" if _database_ok() else "unavailable",
        "broker": "ok" if _broker_ok() else "unavailable",
    }
    healthy = result["database"] == "ok" and result["broker"] == "ok"
    if not healthy:
        result["status"] = "unavailable"
    return JsonResponse(result, status=200 if healthy else 503)
