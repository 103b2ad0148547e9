"""Each role's home page (我的待办) on a desktop and on a phone: the to-dos a person has are visible, with
their counts, and nothing is wider than the screen. A screenshot of each is kept for the issue's note, in
``HUIQI_SCREENSHOTS`` (default: ``huiqi-screenshots`` in the system's temporary folder), outside the
repository."""

from __future__ import annotations

import pytest

from conftest import PASSWORD
from huiqi.site.tests.work import LABELS

from .conftest import VIEWPORTS, fits, login


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_each_roles_home_page_shows_its_to_dos(viewport, day_of_work, new_page, server, accounts, shots):
    for role, labels in LABELS.items():
        phone = viewport == "phone"
        page = new_page(viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone)
        login(page, server, accounts[role].username, PASSWORD)
        assert page.url.rstrip("/") == server.url, f"{role}: the log-in leads home, not to {page.url}"
        todos = page.locator("[data-todos]")
        assert todos.locator("h2").inner_text() == "我的待办"
        if labels:
            items = todos.locator("li[data-todo]")
            assert items.count() == len(labels), f"{role} on a {viewport}: {items.all_inner_texts()}"
            for label in labels:
                item = todos.locator("li[data-todo]", has_text=label)
                assert item.is_visible(), f"{role} on a {viewport}: {label!r} is not visible"
                count = item.locator(".todo-count")
                assert count.is_visible() and int(count.inner_text().replace(",", "")) > 0
                box = item.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[viewport]["width"] + 1
        else:
            assert page.get_by_text("目前没有等您处理的事项。").is_visible()
        if role == "enterprise":
            # Its own services beside the to-dos on a desktop, right below them on a phone.
            services = page.locator("[data-services]")
            assert services.is_visible()
            t, s = todos.bounding_box(), services.bounding_box()
            assert (s["x"] > t["x"]) if viewport == "desktop" else (s["y"] > t["y"])
        fits(page)
        page.screenshot(path=str(shots / f"home-{role}-{viewport}.png"), full_page=True)
        page.context.close()
        assert (shots / f"home-{role}-{viewport}.png").stat().st_size > 5_000
