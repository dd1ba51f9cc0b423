#!/usr/bin/env python3
"""seedpipe studio's Finish in a real browser (chromium, chromium-driver, selenium).

Run by Tests/CLITests/StudioTests.swift with the URL of a studio on a pipeline with profiles
(draft and final) whose outputs include `cut`, a smart-cut trim of the first shot. It checks
that each shot shows its finished version, finishes take 2 of the first shot (the preview
first, then confirm) and waits for the finished video to appear and play, then plays the
smart-cut film (H.264 `avc3`, parameter sets changing in the stream) past its seams.
Exit 0 when every check holds; otherwise it prints what failed and exits 1.
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from studio_browser_test import new_driver, retrying


def plays(driver, wait, selector, seconds):
    """The video plays (muted) past `seconds` with no media error."""
    driver.execute_script("""
        const v = document.querySelector(arguments[0]);
        v.muted = true; v.play();""", selector)
    wait.until(lambda d: d.execute_script(
        "const v = document.querySelector(arguments[0]); return v.error !== null || v.currentTime > arguments[1];",
        selector, seconds))
    error = driver.execute_script("const v = document.querySelector(arguments[0]); return v.error && v.error.message;", selector)
    assert not error, f"{selector}: {error}"


def main() -> int:
    url, first = sys.argv[1], sys.argv[2]
    driver = new_driver()
    wait = WebDriverWait(driver, 90, poll_frequency=0.1)
    try:
        driver.get(url)
        section = f'section[data-stage="{first}"]'
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, f'{section} figure[data-finished="final"]')) == 1)
        print("ok: each shot shows its finished version")

        retrying(lambda: driver.find_element(By.CSS_SELECTOR, f'{section} [data-take="2"] [data-action="finish"]').click())
        wait.until(lambda d: d.find_element(By.ID, "confirm").is_displayed())
        preview = driver.find_element(By.ID, "confirm-text").text
        assert f"finish {first} take 2 in final" in preview and "generation" in preview, f"the cost first: {preview!r}"
        retrying(lambda: driver.find_element(By.CSS_SELECTOR, '[data-action="confirm"]').click())
        finished = f'{section} figure[data-finished="final"] video'
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, finished)) == 1)
        plays(driver, wait, finished, 0.5)
        print("ok: finishing take 2 made the shot in final, and it plays")

        cut = 'video[data-output="cut"]'
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, cut)) == 1)
        plays(driver, wait, cut, 2.5)
        print("ok: the smart-cut film (avc3) plays past its seams")
        return 0
    except Exception as error:  # noqa: BLE001 - every failure is reported the same way
        print(f"FAILED: {type(error).__name__}: {error}")
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
