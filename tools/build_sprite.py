"""Build static/icons/sprite.svg from lucide-static (npm), keeping only the icons we use.

Run `make vendor` after adding an icon name below; the sprite is committed, so
running the app never needs node.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "node_modules" / "lucide-static" / "icons"
OUT = ROOT / "static" / "icons" / "sprite.svg"

ICONS = [
    "house", "send", "sparkles", "circle-user", "heart-handshake", "lightbulb", "sprout", "globe",
    "users", "lock", "eye-off", "folder", "message-circle", "check", "search", "sliders-horizontal",
    "chevron-down", "chevron-right", "settings", "shield", "log-out", "plus", "building-2", "tag",
    "flag", "user-plus", "user-x", "pencil", "x", "wifi-off", "inbox", "award",
    # admin
    "chevron-left", "copy", "mail", "user-check", "circle-check", "archive", "archive-restore",
    "undo-2", "corner-down-right", "folder-plus",
    # stories and customer praise
    "book-open",
    # recognition: flowers, the filter sheet and the built-in badge icons (recognition.models.BADGE_ICONS)
    "flower-2", "filter", "trophy", "star", "heart", "rocket", "flame", "zap", "target", "medal", "crown",
    "gem", "handshake", "shield-check", "party-popper", "graduation-cap", "puzzle", "mountain", "milestone",
    "message-square-heart", "smile",
    # reactions and moderation
    "smile-plus", "trash-2",
    # voice notes
    "mic", "mic-off", "square", "play", "pause", "rotate-ccw",
    # push notifications
    "bell", "bell-off", "smartphone",
    # personal data: export
    "download",
]


def main() -> None:
    symbols = []
    for name in ICONS:
        svg = (SRC / f"{name}.svg").read_text()
        inner = re.search(r"<svg[^>]*>(.*)</svg>", svg, re.S).group(1)  # type: ignore[union-attr]
        inner = re.sub(r"\s+", " ", inner).strip()
        symbols.append(f'<symbol id="{name}" viewBox="0 0 24 24">{inner}</symbol>')
    OUT.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" fill="none" stroke="currentColor" stroke-width="2" '
        'stroke-linecap="round" stroke-linejoin="round">' + "".join(symbols) + "</svg>\n"
    )
    shutil.copy(ROOT / "node_modules" / "lucide-static" / "LICENSE", ROOT / "static" / "vendor" / "lucide" / "LICENSE")
    print(f"{OUT.relative_to(ROOT)}: {len(ICONS)} icons, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
