from flask import Blueprint

bp = Blueprint("notify", __name__, url_prefix="/notify")


@bp.record_once
def _init_jobs(state) -> None:
    from perfapp.tasks import init_tasks

    init_tasks(state.app)


from perfapp.notify import views  # noqa: E402,F401
