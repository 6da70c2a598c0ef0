"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from cbt.web import create_app

app = create_app()
