"""Extensions, created unbound and bound in create_app()."""
from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_compress import Compress
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
# The base class of every model. Flask-SQLAlchemy builds db.Model at run time from Base (adding its
# bind and table-name mixins), and mypy cannot take an attribute such as db.Model as a base class
# (python/mypy#8603), so to mypy the models derive from Base, which is what types their columns.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = HTMX()
compress = Compress()
# Limits are declared on the views (perfapp.core.ratelimit); none apply by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
