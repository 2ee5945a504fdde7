"""Shared plumbing: database set-up, htmx helpers, i18n, errors, signals."""
