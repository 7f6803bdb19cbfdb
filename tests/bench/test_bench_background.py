"""Benchmark of the Editor's live preview (`make bench`): in the UI's own threads (the default)
against a Dash background callback on a Celery worker over Redis (DEPICTIO_CELERY_ENABLED).

Two stacks with the penguins demo, one per mode; in each, a card on body_mass_g in the
add-component stepper, and rounds that change its aggregation and time, in Chromium, from the
choice to the preview showing the value pandas computes. Medians of both, and their ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import MakeStack, Stack, settings_from_env
from e2e.accounts import access_token
from e2e.browser import fresh_page, sign_in
from e2e.editor_steps import add_component, blank_dashboard, choose, penguins
from playwright.sync_api import Browser, Page, sync_playwright
from service_stats import machine
from task_support import private_redis, running_worker

from depictio.cli.demo import load_demo
from depictio.headless_chromium import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.timeout(900)
ROUNDS = 9
AGGREGATIONS = ("mean", "median", "min", "max", "std")
PENGUINS = "Palmer penguins (demo)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def expected_values() -> dict[str, float]:
    """Each aggregation of body_mass_g (pandas on the demo's files)."""
    mass = penguins()["body_mass_g"]
    computed = {
        "mean": mass.mean(),
        "median": mass.median(),
        "min": mass.min(),
        "max": mass.max(),
        "std": mass.std(),
    }
    return {name: float(value) for name, value in computed.items()}


def preview_rounds(browser: Browser, stack: Stack) -> list[float]:
    """Seconds from choosing an aggregation to the preview showing its value, per round."""
    settings = settings_from_env(stack.env)
    demos = {d.name: d for d in load_demo(stack.gateway_url, settings, stack.admin_password)}
    with httpx.Client(base_url=stack.gateway_url, timeout=30.0) as gateway:
        token = access_token(gateway, stack.admin_email, stack.admin_password)
        dashboard_id = blank_dashboard(gateway, token, demos[PENGUINS].project_id, "Bench")
    values = expected_values()
    timings: list[float] = []
    with fresh_page(browser, stack.ui_url, 1400, 1000) as page:
        sign_in(page, stack.admin_email, stack.admin_password, f"/dashboard-edit/{dashboard_id}")
        add_component(page, "card", "Mass", [("cfg-column", "body_mass_g · numeric")])
        for index in range(ROUNDS + 1):  # the first round warms up
            name = AGGREGATIONS[index % len(AGGREGATIONS)]
            started = time.perf_counter()
            choose(page, "cfg-aggregation", name)
            wait_for_value(page, values[name])
            if index:
                timings.append(time.perf_counter() - started)
    return timings


def wait_for_value(page: Page, value: float) -> None:
    """Until the preview's card shows `value` (to the 4 decimals cards show)."""
    page.wait_for_function(
        """v => {
            const text = document.querySelector('#preview-body .dpt-card-value')?.textContent;
            return text !== undefined && Math.abs(parseFloat(text.replace(/,/g, '')) - v) < 1e-4;
        }""",
        arg=value,
        timeout=60_000,
        polling="raf",
    )


def test_preview_in_the_ui_against_on_the_worker(
    make_stack: MakeStack, browser: Browser, tmp_path: Path
) -> None:
    with make_stack(ui=True) as stack:
        in_ui = preview_rounds(browser, stack)
    with (
        private_redis(tmp_path) as redis_url,
        make_stack(ui=True, DEPICTIO_REDIS_URL=redis_url, DEPICTIO_CELERY_ENABLED="true") as stack,
        running_worker(stack.env, tmp_path / "worker.log"),
    ):
        on_worker = preview_rounds(browser, stack)
    ui_median, worker_median = statistics.median(in_ui), statistics.median(on_worker)
    print(
        f"\nEditor preview, {ROUNDS} rounds each — {machine(browser.version)}\n"
        f"  in the UI's threads       median {ui_median * 1000:7.0f} ms "
        f"(min {min(in_ui) * 1000:.0f}, max {max(in_ui) * 1000:.0f})\n"
        f"  background on the worker  median {worker_median * 1000:7.0f} ms "
        f"(min {min(on_worker) * 1000:.0f}, max {max(on_worker) * 1000:.0f})\n"
        f"  ratio worker / UI         {worker_median / ui_median:.2f}×"
    )
    assert len(in_ui) == len(on_worker) == ROUNDS
