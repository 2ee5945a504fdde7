"""WSGI entry point: `gunicorn app:app`, `flask --app app ...`."""
from perfapp import create_app

app = create_app()
