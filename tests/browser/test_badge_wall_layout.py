"""The badge walls on a 360 px phone, zh and en: a dense grid that flows across values, names that
wrap between words (never cut, never an ellipsis), and buttons whose labels stay on one line."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.people.models import User
from perfapp.recognition.badges import AwardInput, BadgeInput, award_badge, create_badge
from perfapp.recognition.models import Badge

LANGS = ["zh", "en"]

# Five values with one or two badges each, then badges tied to no value: what made the old wall
# one row per value. English names as long as the demo's ("Great teammate", "Straight talker").
VALUES = [("客户第一", "Customer first", [("客户之星", "Customer star")]),
          ("担当", "Ownership", [("担当勇士", "Owner")]),
          ("协作", "Collaboration", [("最佳拍档", "Great teammate"), ("暖心同事", "Kind heart")]),
          ("创新", "Innovation", [("创新火花", "Spark")]),
          ("诚信", "Integrity", [("言出必行", "Straight talker")])]
OTHER = [("救火英雄", "Firefighter"), ("上线功臣", "Launch hero"), ("数据达人", "Data wizard"),
         ("良师益友", "Mentor"), ("年度之星", "Star of the year")]

# Each word of each name on one line: a word whose text spans two line boxes was broken.
BROKEN_WORDS = """(sel) => {
  const broken = [];
  for (const el of document.querySelectorAll(sel)) {
    const node = el.firstChild;
    if (!node || node.nodeType !== Node.TEXT_NODE) continue;
    const re = /\\S+/g; let m;
    while ((m = re.exec(node.data))) {
      const r = document.createRange();
      r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
      const tops = new Set([...r.getClientRects()].map(b => Math.round(b.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""

# A clipped or ellipsised name: wider content than its box, or text-overflow set, or over 2 lines.
CLIPPED = """(sel) => [...document.querySelectorAll(sel)].filter(el => {
  const cs = getComputedStyle(el);
  const lines = Math.round(el.getBoundingClientRect().height / parseFloat(cs.lineHeight));
  return el.scrollWidth > el.clientWidth + 1 || cs.textOverflow === 'ellipsis' || lines > 2;
}).map(el => el.textContent.trim())"""

# A label on more than one line: its text's line boxes have more than one distinct top.
WRAPPED_LABELS = """(sel) => [...document.querySelectorAll(sel)].filter(el => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let node, wrapped = false;
  while ((node = walker.nextNode())) {
    if (!node.data.trim()) continue;
    const r = document.createRange(); r.selectNodeContents(node);
    if (new Set([...r.getClientRects()].map(b => Math.round(b.top))).size > 1) wrapped = true;
  }
  return wrapped || el.scrollWidth > el.clientWidth + 1;
}).map(el => el.textContent.trim())"""


def seed_badges(org: Any) -> None:
    admin = db.session.get(User, org.zhang.id)
    admin.role = "hr"
    for i, (tag_zh, tag_en, badges) in enumerate(VALUES):
        tag = Tag(kind="value", name_zh=tag_zh, name_en=tag_en, key=f"value-{i}")
        db.session.add(tag)
        db.session.flush()
        for name_zh, name_en in badges:
            create_badge(admin, BadgeInput(name_zh=name_zh, name_en=name_en, icon="award",
                                                             tag_id=tag.id))
    for name_zh, name_en in OTHER:
        create_badge(admin, BadgeInput(name_zh=name_zh, name_en=name_en, icon="award"))
    db.session.flush()
    giver = db.session.get(User, org.emma.id)
    for badge in db.session.scalars(db.select(Badge).where(Badge.rule.is_(None))).all()[:8]:
        award_badge(giver, AwardInput(badge.id, org.lina.id, "Thank you"))
    db.session.commit()


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("lang", LANGS)
def test_badge_catalogue_is_a_dense_grid_with_whole_names(phone, org, in_app, lang, shot, log_in) -> None:
    in_app(seed_badges, org)
    page = phone(lang).page
    log_in(page, org.james)
    page.goto("/walls/badges")
    tiles = page.locator(".bw-tile")
    expect(tiles.first).to_be_visible()
    count = tiles.count()
    assert count >= 11  # 11 made here + the automatic ones
    groups = page.locator(".bw-group").count()
    shot(page, "badge-catalogue-grid", lang)
    # Tiles of one row share their bottom edge (groups are bottom-aligned under their headings).
    rows = page.evaluate("new Set([...document.querySelectorAll('.bw-tile')]"
                         ".map(t => Math.round(t.getBoundingClientRect().bottom))).size")
    # Several per row, and values side by side: fewer rows than one block of rows per value.
    per_row = 4 if lang == "zh" else 3
    sizes = page.evaluate("[...document.querySelectorAll('.bw-group')].map(g => g.querySelectorAll('.bw-tile').length)")
    assert len(sizes) == groups
    one_block_per_value = sum(-(-n // per_row) for n in sizes)
    assert rows <= one_block_per_value - 2, (rows, sizes)
    first_row_end = page.evaluate("Math.round(document.querySelector('.bw-tile').getBoundingClientRect().bottom)")
    first_row = page.evaluate(f"[...document.querySelectorAll('.bw-tile')].filter(t => "
                              f"Math.round(t.getBoundingClientRect().bottom) === {first_row_end}).length")
    assert first_row >= per_row - 1
    # Headings are small labels above their own badges, not full-width section titles.
    assert page.locator(".bw-group-title").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") <= 13
    assert page.evaluate(CLIPPED, ".bw-tile .bw-name") == []
    assert page.evaluate(BROKEN_WORDS, ".bw-tile .bw-name") == []
    no_horizontal_scroll(page)


@pytest.mark.parametrize("lang", LANGS)
def test_person_badge_wall_names_wrap_and_buttons_stay_on_one_line(phone, org, in_app, lang, shot,
                                                                   log_in) -> None:
    in_app(seed_badges, org)
    page = phone(lang).page
    log_in(page, org.james)
    page.goto(f"/walls/people/{org.lina.id}")
    cells = page.locator(".bw-cell")
    expect(cells).to_have_count(8)
    per_row = 4 if lang == "zh" else 3
    first_top = cells.first.evaluate("e => Math.round(e.getBoundingClientRect().top)")
    assert cells.nth(per_row - 1).evaluate("e => Math.round(e.getBoundingClientRect().top)") == first_top
    assert page.evaluate(CLIPPED, ".bw-cell .bw-name") == []
    assert page.evaluate(BROKEN_WORDS, ".bw-cell .bw-name") == []
    buttons = page.locator(".bw-actions .btn")
    expect(buttons).to_have_count(2)
    assert page.evaluate(WRAPPED_LABELS, ".bw-actions .btn") == []
    # The buttons fit inside the profile card side by side.
    card_right = page.locator("section.profile").evaluate("e => e.getBoundingClientRect().right")
    for i in range(2):
        assert buttons.nth(i).evaluate("e => e.getBoundingClientRect().right") <= card_right
    no_horizontal_scroll(page)
    shot(page, "badge-wall-person", lang)
    # The praise wall's give buttons, the same rule.
    page.goto("/walls/")
    assert page.evaluate(WRAPPED_LABELS, ".wall-actions .btn") == []
    # Its strip of newest badges: whole names ("Great teammate", not "Great tea…").
    expect(page.locator(".strip-badge-name").first).to_be_visible()
    assert page.evaluate(CLIPPED, ".strip-badge-name") == []
    assert page.evaluate(BROKEN_WORDS, ".strip-badge-name") == []
    shot(page, "praise-wall-strip", lang)


CONTRAST = """([a, b]) => {
  const rgb = c => { const el = document.createElement('i'); el.style.color = c; document.body.append(el);
    const v = getComputedStyle(el).color.match(/\\d+/g).slice(0, 3).map(Number); el.remove(); return v; };
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accent_contrast_and_tap_targets(browser, live_server, org, in_app, log_in, scheme) -> None:
    in_app(seed_badges, org)
    context = browser.new_context(base_url=live_server.url, locale="en-US", color_scheme=scheme,
                                  viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        log_in(page, org.james)
        page.goto("/walls/")
        expect(page.locator(".rc-badge-name").first).to_be_visible()
        var = "getComputedStyle(document.documentElement).getPropertyValue('{}').trim()"
        accent, ink, bg, surface = (page.evaluate(var.format(n)) for n in ("--accent", "--accent-ink", "--bg", "--surface"))
        # WCAG AA for body text: the accent's ink on it, and the accent as text on the page and on cards.
        for fg, back in ((ink, accent), (accent, bg), (accent, surface)):
            assert page.evaluate(CONTRAST, [fg, back]) >= 4.5, (scheme, fg, back)
        # Segmented tabs are 44 px tall; a name link is small text with a 44 px hit area around it.
        for h in page.locator(".wall-tabs > a").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)"):
            assert h >= 44
        link = page.locator(".fb-names a").first
        box = link.bounding_box()
        assert box is not None
        for dy in (-10, box["height"] + 10):
            hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.closest('a')?.getAttribute('href')",
                                [box["x"] + box["width"] / 2, box["y"] + dy])
            assert hit == link.get_attribute("href"), (dy, hit)
    finally:
        context.close()
