"""The layout ARCHITECTURE.md describes, checked on the code: no domain imports another domain's
views, core/ imports no domain, and nothing imports walls (a read-only aggregation). Imports
inside functions count too."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import perfapp

ROOT = Path(perfapp.__file__).parent
# Not domains: the app factory and what every domain shares.
SHARED = {"core", "extensions", "config", "cli", "models", "tasks", "migrations", "seed"}
# footer_key (reactions/views.py) moves with the card cache rewrite; until then its two users.
PENDING = {("feedback/cards.py", "perfapp.reactions.views"), ("walls/cards.py", "perfapp.reactions.views")}
# The page cache reads the session and the person itself; its rewrite (issue 8's caching part) removes it.
CORE_PENDING = {"core/pagecache.py"}


def imports() -> Iterator[tuple[str, str]]:
    """(module path relative to perfapp/, imported module) for every import in perfapp/."""
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("migrations/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
            if isinstance(node, ast.Import):
                yield from ((rel, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield rel, node.module
                # "from perfapp.x import views" imports the module perfapp.x.views
                yield from ((rel, f"{node.module}.{alias.name}") for alias in node.names)


def domain_of(rel: str) -> str | None:
    first = rel.split("/")[0]
    return first if "/" in rel and first not in SHARED else None


def target(module: str) -> tuple[str, str] | None:
    """('walls', 'views') for perfapp.walls.views; None outside perfapp."""
    parts = module.split(".")
    if parts[0] != "perfapp" or len(parts) < 2:
        return None
    return parts[1], parts[2] if len(parts) > 2 else ""


def test_no_domain_imports_another_domains_views() -> None:
    bad = sorted({(rel, module) for rel, module in imports()
                  if (t := target(module)) and t[1] == "views" and domain_of(rel) not in (None, t[0])
                  and (rel, module.removesuffix(".footer_key")) not in PENDING})
    assert bad == []


def test_core_imports_no_domain() -> None:
    bad = sorted({(rel, module) for rel, module in imports()
                  if rel.startswith("core/") and rel not in CORE_PENDING and (t := target(module))
                  and t[0] not in SHARED})
    assert bad == []


def test_nothing_imports_walls() -> None:
    """Walls read recognition and feedback; only create_app registers its blueprint."""
    bad = sorted({(rel, module) for rel, module in imports()
                  if (t := target(module)) and t[0] == "walls" and not rel.startswith("walls/")
                  and rel != "__init__.py"})
    assert bad == []


def _call_name(node: ast.expr) -> str:
    func = node.func if isinstance(node, ast.Call) else node
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _listens(call: ast.expr) -> bool:
    """An SQLAlchemy session or mapper listener (a table's DDL listeners belong to its definition)."""
    if _call_name(call) not in ("listen", "listens_for") or not isinstance(call, ast.Call) or not call.args:
        return False
    first = call.args[0]
    return not (isinstance(first, ast.Attribute) and first.attr == "__table__")


def test_nothing_registers_at_import_time() -> None:
    """Registrations (reactions, moderation, stories, the inbox, push), signal handlers and session
    listeners are made in a domain's wiring.connect(app), called from create_app (core's from
    create_app itself); never by importing a module."""
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.parse(path.read_text(encoding="utf-8"), rel).body:
            calls = [node.value] if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) else []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                calls = list(node.decorator_list)  # e.g. @signals.feedback_given.connect
            bad += [(rel, node.lineno) for call in calls
                    if _call_name(call).startswith(("register", "connect")) or _listens(call)]
    assert bad == []


def test_every_wiring_module_is_connected_by_create_app() -> None:
    factory = (ROOT / "__init__.py").read_text(encoding="utf-8")
    domains = sorted(p.parent.name for p in ROOT.glob("*/wiring.py"))
    assert domains and [d for d in domains if f"from perfapp.{d} import wiring as" not in factory] == []


def test_the_readme_lists_every_package() -> None:
    readme = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "core")
    assert [p for p in packages if f"| `{p}` |" not in readme] == []
