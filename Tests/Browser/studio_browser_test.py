#!/usr/bin/env python3
"""seedpipe studio in a real browser (Debian's chromium and chromium-driver, driven by selenium).

Run by Tests/CLITests/StudioTests.swift with: the studio's URL (token included), the picks
file, and the shots and takes the page must show. It opens the page, sees every shot and
take, in pipeline order after the film, picks take 2 of the first shot and waits for the
picks file to say so, plays it while a run it starts changes the stages' states live to done
(the video plays on through every update), then plays a take to its end.
Exit 0 when every check holds; otherwise it prints what failed and exits 1.
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait


def retrying(action, attempts=20):
    """The page redraws as events arrive: an element found a moment ago may be gone; find it again."""
    for attempt in range(attempts):
        try:
            return action()
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)


def new_driver():
    """Headless chromium (CHROMIUM, CHROMEDRIVER override the Debian paths), muted, free to autoplay."""
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--mute-audio",
                 "--autoplay-policy=no-user-gesture-required", "--disable-gpu"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


def main() -> int:
    url, picks_file, expected_json = sys.argv[1], sys.argv[2], sys.argv[3]
    expected = json.loads(expected_json)  # {"shots-1": 2, ...}: takes per shot
    driver = new_driver()
    wait = WebDriverWait(driver, 60, poll_frequency=0.1)
    try:
        driver.get(url)
        # Every shot and every take.
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "section[data-stage]")) == len(expected))
        shots = driver.execute_script("""
            const shots = {};
            for (const s of document.querySelectorAll('section[data-stage]')) {
              shots[s.getAttribute('data-stage')] = Array.from(s.querySelectorAll('[data-take]'))
                .map(t => [t.getAttribute('data-take'), t.getAttribute('data-picked')]);
            }
            return shots;""")
        for shot, count in expected.items():
            takes = shots.get(shot, [])
            assert len(takes) == count, f"{shot}: {len(takes)} takes on the page, {count} expected"
            picked = [number for number, flag in takes if flag == "true"]
            assert picked == ["1"], f"{shot}: take 1 is picked at first, not {picked}"
        print("ok: every shot and take is on the page")
        # Private: the page is open through the cookie; the token left the address.
        assert "token=" not in driver.current_url, f"the token is still in the address: {driver.current_url}"
        # The film leads, then the shots in pipeline order.
        order = driver.execute_script("return Array.from(document.querySelectorAll('section[data-stage]')).map(s => s.getAttribute('data-stage'));")
        assert order == list(expected), f"shots in pipeline order: {order}"
        assert driver.execute_script(
            "return document.getElementById('film').compareDocumentPosition(document.getElementById('shots')) & Node.DOCUMENT_POSITION_FOLLOWING;"), \
            "the film comes before the shots"
        print("ok: the token left the address; the film, then the shots in pipeline order")

        # Pick take 2 of the first shot: a preview, then confirm; the picks file changes.
        first = list(expected)[0]
        retrying(lambda: driver.find_element(By.CSS_SELECTOR, f'section[data-stage="{first}"] [data-take="2"] [data-action="pick"]').click())
        wait.until(lambda d: d.find_element(By.ID, "confirm").is_displayed())
        preview = driver.find_element(By.ID, "confirm-text").text
        assert "regenerates" in preview or "emulates" in preview, f"the pick says what the next run makes: {preview!r}"
        retrying(lambda: driver.find_element(By.CSS_SELECTOR, '[data-action="confirm"]').click())
        wait.until(lambda d: os.path.exists(picks_file) and "take: 2" in open(picks_file).read())
        wait.until(lambda d: d.execute_script(
            "const t = document.querySelector(arguments[0]); return t !== null && t.getAttribute('data-picked') === 'true';",
            f'section[data-stage="{first}"] [data-take="2"]'))
        print("ok: picking take 2 wrote the picks file")

        # A take that plays while the run updates the page keeps playing: the same element, never
        # reloaded or paused, its currentTime rising throughout (slowed, so it outlasts the run).
        playing = f'section[data-stage="{first}"] [data-take="2"] video'
        driver.execute_script("""
            const v = document.querySelector(arguments[0]);
            v.muted = true; v.playbackRate = 0.25; v.dataset.watched = "yes";
            window.watch = {times: [], reloaded: false, paused: false};
            v.addEventListener('emptied', () => window.watch.reloaded = true);
            v.addEventListener('pause', () => window.watch.paused = true);
            window.watchTimer = setInterval(() => window.watch.times.push(v.currentTime), 100);
            v.play();""", playing)
        wait.until(lambda d: d.execute_script("return document.querySelector(arguments[0]).currentTime > 0.05;", playing))

        # Run: the plan and its cost first, then the states change live until every stage is done.
        retrying(lambda: driver.find_element(By.CSS_SELECTOR, '[data-action="run"]').click())
        wait.until(lambda d: d.find_element(By.ID, "confirm").is_displayed())
        confirm = driver.find_element(By.ID, "confirm-text").text
        assert "to pay for" in confirm or "to emulate" in confirm, f"the run says what it makes first: {confirm!r}"
        retrying(lambda: driver.find_element(By.CSS_SELECTOR, '[data-action="confirm"]').click())
        seen = set()

        def states(d):
            # Read in one go: the page redraws its table as events come.
            pairs = d.execute_script("return Array.from(document.querySelectorAll('[data-stage-state]'))"
                                     ".map(e => [e.getAttribute('data-stage-state'), e.textContent]);")
            values = dict(pairs)
            seen.update(values.values())
            return values

        wait.until(lambda d: "running" in states(d).values())
        wait.until(lambda d: all(v in ("done", "cached") for v in states(d).values()) and "done" in states(d).values())
        final = states(driver)
        assert all(v in ("queued", "running", "cached", "done", "failed") for v in seen), f"states seen: {seen}"
        print(f"ok: the run went live from running to done ({sum(v == 'done' for v in final.values())} stages done)")
        # The run list gains the run just made, on top.
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#runs tr[data-run]")) >= 2)
        print(f"ok: the run list shows {len(driver.find_elements(By.CSS_SELECTOR, '#runs tr[data-run]'))} runs, newest first")
        # The page has taken the run's end (it reads the state again): the take played on through it.
        time.sleep(1.5)
        watch = driver.execute_script("""
            clearInterval(window.watchTimer);
            const v = document.querySelector(arguments[0]);
            return {same: v !== null && v.dataset.watched === "yes", paused: v.paused, times: window.watch.times,
                    reloaded: window.watch.reloaded, pausedOnce: window.watch.paused};""", playing)
        times = watch["times"]
        assert watch["same"], "the playing take's video element was replaced by an update"
        assert not watch["reloaded"] and not watch["pausedOnce"] and not watch["paused"], f"the take stopped or reloaded: {watch}"
        assert len(times) > 20 and all(b >= a for a, b in zip(times, times[1:])) and times[-1] > times[0] + 0.2, \
            f"currentTime kept rising through the update: {times[:5]} … {times[-5:]}"
        driver.execute_script("document.querySelector(arguments[0]).playbackRate = 1; document.querySelector(arguments[0]).pause();", playing)
        print(f"ok: a take kept playing through the run's updates ({times[0]:.2f} s to {times[-1]:.2f} s)")

        # Play a take to its end (found afresh each time: the page redraws after a run).
        selector = f'section[data-stage="{first}"] [data-take="2"] video'
        time.sleep(1)
        driver.execute_script("const v = document.querySelector(arguments[0]); v.muted = true; v.play();", selector)
        WebDriverWait(driver, 60, poll_frequency=0.2).until(
            lambda d: d.execute_script("const v = document.querySelector(arguments[0]); return v !== null && v.ended;", selector))
        duration = driver.execute_script("return document.querySelector(arguments[0]).duration;", selector)
        assert duration and duration > 1, f"the video has a duration: {duration}"
        print(f"ok: a take played to its end ({duration:.1f} s)")
        return 0
    except Exception as error:  # noqa: BLE001 - report any failure as one line, with the page's message
        message = ""
        try:
            message = driver.find_element(By.ID, "message").text
        except Exception:  # noqa: BLE001
            pass
        print(f"FAILED: {type(error).__name__}: {error} (page message: {message!r})")
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
