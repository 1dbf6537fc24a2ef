"""The hub in a real headless chromium, offline: upload faces in the synthesis and interpolation tabs, run them, see
the results appear; with the shipped weights the screenshots go to docs/screenshots/ (the README shows them)."""

from __future__ import annotations

import shutil
import tempfile

import pytest

pytestmark = pytest.mark.browser

SHOWN = 256  # faces are shown enlarged to this size (spaces.display)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("browser test needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver; "
                ".ci/run installs them)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="browser test needs selenium (the `test` extra)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="facezoo-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={profile}", "--window-size=1400,1800",
                 # No network but localhost: the page must not need a CDN (fonts, scripts) to work.
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _upload(driver, elem_id: str, path: str) -> None:
    field = driver.find_element(By.CSS_SELECTOR, f"#{elem_id} input[type=file]")
    field.send_keys(path)
    # The preview shows once gradio has uploaded the file to the server.
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#{elem_id} img")))


def _images_loaded(driver, selector: str, count: int):
    def check(_):
        imgs = driver.find_elements(By.CSS_SELECTOR, selector)
        done = [i for i in imgs if driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", i)]
        return done if len(done) >= count else False

    return check


def _open_tab(driver, title: str) -> None:
    for button in driver.find_elements(By.CSS_SELECTOR, "button[role=tab]"):
        if button.text.strip() == title:
            button.click()
            return
    raise AssertionError(f"no tab {title!r}")


def test_hub_in_browser(browser, shown_hub):
    hub_url, hub_context, SCREENSHOTS = shown_hub
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(hub_url)
    WebDriverWait(browser, 60).until(EC.presence_of_element_located((By.ID, "synthesis-run")))
    assert "facezoo" in browser.title

    # Synthesis: a real photo → detection, alignment, 4 samples in the gallery.
    _upload(browser, "synthesis-identity", hub_context.examples.photos[0])
    browser.find_element(By.ID, "synthesis-run").click()
    samples = WebDriverWait(browser, 90).until(_images_loaded(browser, "#synthesis-gallery img", 4))
    assert all(browser.execute_script("return arguments[0].naturalWidth", i) == SHOWN for i in samples)
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "synthesis-status"), "face found"))
    browser.save_screenshot(str(SCREENSHOTS / "synthesis.png"))

    # Interpolation: two FaceWorld faces → a strip of 8 frames and the GIF.
    _open_tab(browser, "Interpolation")
    WebDriverWait(browser, 30).until(EC.visibility_of_element_located((By.ID, "interpolation-run")))
    _upload(browser, "interpolation-a", hub_context.examples.faceworld[0])
    _upload(browser, "interpolation-b", hub_context.examples.faceworld[1])
    browser.find_element(By.ID, "interpolation-run").click()
    WebDriverWait(browser, 90).until(_images_loaded(browser, "#interpolation-gallery img", 8))
    gif = WebDriverWait(browser, 30).until(_images_loaded(browser, "#interpolation-gif img", 1))[0]
    assert gif.get_attribute("src").split("?")[0].endswith(".gif")
    browser.save_screenshot(str(SCREENSHOTS / "interpolation.png"))

    # FaceWorld: the browser renders at start-up; a screenshot for the README.
    _open_tab(browser, "FaceWorld")
    face = WebDriverWait(browser, 30).until(_images_loaded(browser, "#faceworld-image img", 1))[0]
    # the 64 px render is shown at the enlarged size, and the page does not shrink it back to a stamp
    assert browser.execute_script("return arguments[0].naturalWidth", face) == SHOWN
    assert browser.execute_script("return arguments[0].getBoundingClientRect().height", face) >= 200
    browser.save_screenshot(str(SCREENSHOTS / "faceworld.png"))

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "127.0.0.1" in e["message"]]
    assert not errors, errors
