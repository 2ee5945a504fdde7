"""Configuration classes. Environment variables override the embedded defaults."""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _default_db_url() -> str:
    instance = BASE_DIR / "instance"
    instance.mkdir(exist_ok=True)
    return f"sqlite:///{instance / 'perfapp.db'}"


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs and plain "postgresql://" both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _normalise_db_url(os.environ.get("DATABASE_URL") or _default_db_url())
    # No ping on every checkout: perfapp.core.db pings server connections that were idle a while.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL")
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH", str(BASE_DIR / "instance" / "huey.db"))

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    # The organisation's clock: flower allowances reset at midnight on the 1st here.
    ORG_TIMEZONE = os.environ.get("ORG_TIMEZONE") or BABEL_DEFAULT_TIMEZONE
    # Seconds the walls may show company-wide counts (top values, badge holders) before recounting.
    WALL_STRIP_TTL = 300
    # The card cache (perfapp.core.cards); 0 turns it off (every card renders on every request).
    CARD_CACHE = os.environ.get("CARD_CACHE", "1") != "0"
    # Characters of card HTML each worker keeps. A card is ~3.5 KB and most of a home feed's are the
    # viewer's own (their facets), so 1,000 people's home and a colleague's profile need ~140 M;
    # a smaller cache keeps evicting cards that are about to be shown again.
    CARD_CACHE_CHARS = int(os.environ.get("CARD_CACHE_CHARS", 160_000_000))
    # Kept pages (perfapp.core.pages): per viewer, stored compressed (~8 KB a home page); 0 = off.
    # 1,000 active people's seven hot pages are ~60 MB, and a spliced wall keeps its page around the
    # feed as text besides: at 64 MB a worker evicted pages it was about to serve again.
    PAGE_CACHE = os.environ.get("PAGE_CACHE", "1") != "0"
    PAGE_CACHE_BYTES = int(os.environ.get("PAGE_CACHE_BYTES", 256_000_000))
    # How long the praise wall's shared rows are reused while no public write changed them (what
    # time alone changes there shows within this).
    PAGE_RECHECK_SECONDS = float(os.environ.get("PAGE_RECHECK_SECONDS", 20))
    # How long a kept page is answered on the changes alone (perfapp.core.changes) before its
    # statement (Home) or its whole view (a profile, a badge wall, goals, the goal tree, review
    # results, the page around the praise wall) checks it again: this bounds only a write the
    # triggers would miss. Home's requests expiring and review cycles closing (what time alone
    # changes on it) show when they happen (perfapp.core.pages.changes_by_time_at).
    PAGE_RECHECK_VIEW_SECONDS = float(os.environ.get("PAGE_RECHECK_VIEW_SECONDS", 300))
    # The praise wall's channel (every public write) is read by a worker at most this often, not by
    # every request (perfapp.core.pages.channel_changes): a public write shows on others' walls
    # within this, on its author's at once. 0: read by every request.
    PAGE_SHARED_RECHECK_SECONDS = float(os.environ.get("PAGE_SHARED_RECHECK_SECONDS", 1))
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Behind HTTPS (SESSION_COOKIE_SECURE=1): the cookies get the __Host- prefix, which browsers
    # accept only when Secure, Path=/ and without Domain, so no sibling subdomain or plain-http
    # page can set or overwrite them; HSTS is sent too (perfapp.core.security).
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session; phones stay open for days
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    COMPRESS_MIMETYPES = ["text/html", "application/json", "text/plain", "application/manifest+json",
                          "application/javascript", "text/javascript"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIN_SIZE = 500
    # Pages are compressed on every request (they differ per viewer): the fastest levels. Measured
    # on a 75 KB home page: brotli 1 gives 7.6 KB in 0.08 ms, brotli 4 (the default) 6.4 KB in
    # 0.38 ms; gzip 1 8.4 KB in 0.16 ms, gzip 6 6.8 KB in 0.52 ms. A kilobyte is nothing to a phone,
    # 0.3 ms is 5-10% of a page's CPU. (Static files are precompressed at the highest levels.)
    COMPRESS_BR_LEVEL = 1
    COMPRESS_LEVEL = 1
    STATIC_MAX_AGE = 60 * 60 * 24 * 365

    # Different people whose reports hide a post from everyone until HR decides (one hides it
    # from its reporter only).
    REPORTS_TO_HIDE = 3

    # Rate limits (perfapp.core.ratelimit; flask-limiter notation, "N per period; M per period").
    # Far above what a person does; each can be set from the environment. Storage: memory, or
    # Redis when REDIS_URL is set (RATELIMIT_STORAGE_URI overrides both).
    RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1") != "0"
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0") or 0)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")
    RATELIMIT_STRATEGY = "sliding-window-counter"
    RATELIMIT_KEY_PREFIX = "perfapp"
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "10 per 15 minutes")
    RATELIMIT_LOGIN_ADDRESS = os.environ.get("RATELIMIT_LOGIN_ADDRESS", "100 per 15 minutes")
    RATELIMIT_RESET_ACCOUNT = os.environ.get("RATELIMIT_RESET_ACCOUNT", "5 per hour")
    RATELIMIT_RESET_ADDRESS = os.environ.get("RATELIMIT_RESET_ADDRESS", "30 per hour")
    RATELIMIT_FEEDBACK = os.environ.get("RATELIMIT_FEEDBACK", "30 per minute; 500 per day")
    RATELIMIT_FLOWERS = os.environ.get("RATELIMIT_FLOWERS", "30 per minute")
    RATELIMIT_BADGES = os.environ.get("RATELIMIT_BADGES", "30 per minute")
    RATELIMIT_COMMENTS = os.environ.get("RATELIMIT_COMMENTS", "30 per minute")
    RATELIMIT_REACTIONS = os.environ.get("RATELIMIT_REACTIONS", "120 per minute")
    RATELIMIT_REPORTS = os.environ.get("RATELIMIT_REPORTS", "20 per hour")
    RATELIMIT_PUSH = os.environ.get("RATELIMIT_PUSH", "20 per hour")
    RATELIMIT_INBOUND = os.environ.get("RATELIMIT_INBOUND", "120 per minute")

    LOGIN_MAX_FAILURES = 10
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
    INVITE_TTL_DAYS = 7
    # A "forgot password" link works once, for this long.
    PASSWORD_RESET_TTL_MINUTES = 60
    # Outgoing mail (perfapp.core.mail): "log" writes messages to the server log, "smtp" sends
    # them to SMTP_URL (smtp://user:password@host:587 or smtps://host:465) from MAIL_FROM.
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "log")
    SMTP_URL = os.environ.get("SMTP_URL")
    MAIL_FROM = os.environ.get("MAIL_FROM", "perfapp@localhost")
    # Where people open the app (https://perfapp.example.com): links in emails start with it.
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    FEED_PAGE_SIZE = 20
    # A milestone's peer-review aggregates show only when at least this many people answered
    # (perfapp.projects.reviews holds it at 3 or more whatever is set here).
    PEER_REVIEW_MIN_GROUP = int(os.environ.get("PEER_REVIEW_MIN_GROUP") or 5)
    # Shared with the mail server that POSTs customer emails to /integrations/inbound/email (unset: off).
    INBOUND_EMAIL_SECRET = os.environ.get("INBOUND_EMAIL_SECRET")
    # The address people forward customer emails to (delivered to that webhook); shown with a copy
    # button on the import page so a phone user forwards instead of pasting raw source. Unset: not shown.
    INBOUND_EMAIL_ADDRESS = os.environ.get("INBOUND_EMAIL_ADDRESS")

    # Background jobs (perfapp.tasks): run inline instead of queueing (tests).
    HUEY_IMMEDIATE = False
    # Web push (perfapp.notify.push). VAPID keys as PEM or base64url; unset: made on first use
    # and kept in the database. The subject is the contact push services see (an email address).
    VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY")
    VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY")
    VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:webpush@perfapp.example")
    # Subscription endpoints must be https on one of these hosts ("*." matches subdomains).
    PUSH_HOST_ALLOWLIST = tuple(h.strip() for h in os.environ.get("PUSH_HOST_ALLOWLIST", "").split(",") if h.strip()) or (
        "fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com", "*.notify.windows.com",
    )
    # Only tests turn this on: admits http:// and loopback addresses for a local test push service
    # that is also on the allow-list. Deliberately not read from the environment.
    PUSH_ALLOW_INSECURE_LOCAL_TEST_SERVICE = False
    PUSH_TIMEOUT_SECONDS = 10
    PUSH_SEND_THREADS = 8          # concurrent sends within one delivery job
    PUSH_BATCH_SIZE = 100          # inbox entries per delivery job
    PUSH_MAX_ATTEMPTS = 6          # tries per device on 429/5xx/network errors
    PUSH_RETRY_BASE_SECONDS = 30   # backoff: base * 2**attempt, at least Retry-After, capped below
    PUSH_RETRY_MAX_SECONDS = 3600
    # Voice notes: a local folder outside static/, or an S3-compatible bucket when one is named
    # (credentials from these or boto3's usual sources: environment, ~/.aws, instance role).
    VOICE_STORAGE_DIR = os.environ.get("VOICE_STORAGE_DIR") or str(BASE_DIR / "instance" / "voice")
    VOICE_S3_BUCKET = os.environ.get("VOICE_S3_BUCKET")
    VOICE_S3_PREFIX = os.environ.get("VOICE_S3_PREFIX", "voice/")
    VOICE_S3_ENDPOINT_URL = os.environ.get("VOICE_S3_ENDPOINT_URL")
    VOICE_S3_REGION = os.environ.get("VOICE_S3_REGION")
    VOICE_S3_ACCESS_KEY_ID = os.environ.get("VOICE_S3_ACCESS_KEY_ID")
    VOICE_S3_SECRET_ACCESS_KEY = os.environ.get("VOICE_S3_SECRET_ACCESS_KEY")
    # A storage quota for the SQLite file in pages (see PRAGMA max_page_count); unset: none. Writes
    # past it answer 503 "storage full" like a full disk does (bench/crash.py uses it for that).
    SQLITE_MAX_PAGE_COUNT = int(os.environ.get("SQLITE_MAX_PAGE_COUNT") or 0) or None
    # SQLite reads: the file memory-mapped (PRAGMA mmap_size; 0: off) and each connection's page
    # cache in KiB (PRAGMA cache_size). With many people's pages in rotation most reads land on
    # pages another request read last; mapped, they come from the OS's cache without a copy, and a
    # write by another connection (which empties every connection's own page cache) costs nothing.
    SQLITE_MMAP_BYTES = int(os.environ.get("SQLITE_MMAP_BYTES", 1 << 30))
    SQLITE_CACHE_KIB = int(os.environ.get("SQLITE_CACHE_KIB", 8192))
    # PostgreSQL: a page view reads in autocommit until its first write (perfapp.core.db).
    READS_WITHOUT_TRANSACTION = os.environ.get("READS_WITHOUT_TRANSACTION", "1") != "0"


class TestConfig(Config):
    TESTING = True
    WALL_STRIP_TTL = 0  # counts always fresh, so tests see what they just wrote
    PAGE_SHARED_RECHECK_SECONDS = 0  # the same for the praise wall (tests/core/test_wall_found_by_changes.py sets it)
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = _normalise_db_url(
        os.environ.get("TEST_DATABASE_URL") or "sqlite:///:memory:"
    )
    COMPRESS_REGISTER = False
    PASSWORD_HASH_FAST = True  # argon2 with low cost so the suite stays quick
    MAIL_SENDER = "memory"  # perfapp.core.mail.OUTBOX
    HUEY_IMMEDIATE = True
    RATELIMIT_ENABLED = False  # tests/test_ratelimit.py turns it on
    RATELIMIT_STORAGE_URI = "memory://"
