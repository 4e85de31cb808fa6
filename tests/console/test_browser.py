"""The console in a real headless Chromium, against the running gateway."""

import itertools
import os
import shutil

import pytest

from bot.cases import format_reference
from bot.config import PROJECT_ROOT
from bot.console.accounts import create_account
from tests.helpers import cases_of, escalations_of

PASSWORD = "correct horse battery"
# The screenshots in the docs are refreshed with UPDATE_SCREENSHOTS=1;
# otherwise they go to the session's temporary folder.
DOCS_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
# Flags that keep Chromium from reaching out to Google's services.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
_names = itertools.count(1)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run the tests with ./hotline test, which installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def agent(db, vault):
    username = f"browseragent{next(_names)}"
    with db.session() as session:
        create_account(session, username, PASSWORD, "agent", phone="+12025550188", vault=vault)
    return username


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/console/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_agent_works_an_escalation_to_the_end(browser, settings, agent, phone, db, twilio, screenshots):
    phone.text("我们厂里有好多童工，才十三四岁就在车间干活")
    for answer in ("阳光制衣厂", "去年开始的", "1", "1", "1", "晚上八点以后"):
        phone.text(answer)
    (case,) = cases_of(db, phone)
    (escalation,) = escalations_of(db, phone)
    base = settings.public_base_url
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    page.goto(f"{base}/console/sign-in")
    page.screenshot(path=str(screenshots / "sign-in.png"))
    sign_in(page, base, agent)
    row = page.locator(f'tr[data-escalation="{escalation.id}"]')
    assert "critical" in row.inner_text()
    page.screenshot(path=str(screenshots / "queue.png"), full_page=True)

    row.locator("button", has_text="Claim").click()
    assert "claimed by" in page.locator(f'tr[data-escalation="{escalation.id}"]').inner_text()
    page.click(f'tr[data-escalation="{escalation.id}"] a')

    transcript = page.locator("table.transcript").inner_text()
    assert "童工" in transcript
    assert "[en] 我们厂里有好多童工" in transcript
    assert phone.number not in page.content()
    page.screenshot(path=str(screenshots / "case.png"), full_page=True)

    page.click("text=Call the worker through the hotline")
    assert "Your phone will ring now" in page.content()
    assert [c for c in twilio.calls if c.to == "+12025550188"]

    page.fill("#note", "Spoke with the worker; the brand's team visits on Monday.")
    page.select_option("#status", "closed")
    page.click("text=Save")
    assert "Saved: status, note." in page.content()
    assert "the brand's team visits on Monday" in page.locator("main").inner_text()

    reply = "".join(phone.text(format_reference(case.reference_code)))
    assert "已结案" in reply
    page.close()


def test_queue_fits_a_phone_screen(browser, settings, agent, screenshots):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in(page, settings.public_base_url, agent)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "queue-phone.png"))
    page.close()


def test_wrong_password_shows_error_in_browser(browser, settings, agent):
    page = browser.new_page()
    page.goto(f"{settings.public_base_url}/console/sign-in")
    page.fill("#username", agent)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")

    assert page.locator("[role=alert]").inner_text() == "invalid username or password"
    page.close()
