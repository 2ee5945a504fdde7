"""Stories and customer praise join the reportable kinds: the queue and the audit log name them."""
from __future__ import annotations

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.integrations.models import CustomerPraise
from perfapp.moderation import services
from perfapp.moderation.registry import REPORTABLE
from perfapp.stories.models import Story, StoryPerson

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_both_kinds_are_registered() -> None:
    assert {"story", "customer_praise"} <= set(REPORTABLE)


def test_the_queue_and_log_show_both_kinds_in_chinese(team, login) -> None:
    story = Story(source_type="feedback", source_id=1, title="那个挽救发布的夜晚", text="她一直守到发布成功。",
                  promoter_id=team["boss"].id, status="published", published_at=utcnow())
    story.people = [StoryPerson(user_id=team["recipient"].id, consent="accepted")]
    praise = CustomerPraise(status="confirmed", origin="paste", sender_email="chen@client.example",
                            subject="感谢李娜", body="李娜帮了大忙。", created_by_id=team["author"].id,
                            confirmed_at=utcnow())
    db.session.add_all([story, praise])
    db.session.commit()
    services.report(team["other"], "story", story.id, "编造的")
    services.report(team["other"], "customer_praise", praise.id, "不是客户")
    db.session.commit()
    c = login(team["hr"])
    queue = c.get("/moderation/", headers=ZH).get_data(as_text=True)
    assert f'id="case-story-{story.id}"' in queue and "那个挽救发布的夜晚" in queue
    assert f'id="case-customer_praise-{praise.id}"' in queue and "感谢李娜" in queue
    assert "被举报的内容、评论或案例会先对举报人隐藏" in queue
    for kind, target_id in (("story", story.id), ("customer_praise", praise.id)):
        assert c.submit(f"/moderation/{kind}/{target_id}", {"action": "delete", "reason": "核实为虚假", "confirmed": "1"}).status_code == 303
    log = c.get("/moderation/log", headers=ZH).get_data(as_text=True)
    assert "案例 #" in log and "客户表扬 #" in log
    assert "那个挽救发布的夜晚" not in log and "感谢李娜" not in log  # no content copy
