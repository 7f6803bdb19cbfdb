"""Keeps the browser's native parseInt, parseFloat and String trims on Dash pages.

Dash loads @babel/polyfill (core-js 2) before everything else. In current browsers core-js 2
judges the native parseInt, parseFloat and String.prototype.trim* non-compliant (it still
counts U+180E as white space) and replaces them with much slower JavaScript versions. Plotly
parses every colour string with them: a 10,000-point scatter coloured by category spent about
100 ms per redraw in them (measured in Chromium, tests/bench/test_bench_dashboard.py). The
natives are kept before the polyfill runs and put back after it, once they pass the ordinary
checks; the rest of the polyfill (regenerator runtime, …) stays.
"""

from __future__ import annotations

from dash import Dash

KEEP_NATIVES = """<script>
window.__dptNative = {parseInt: window.parseInt, parseFloat: window.parseFloat,
    trims: ["trim", "trimStart", "trimEnd", "trimLeft", "trimRight"].map(
        (name) => [name, String.prototype[name]])};
</script>"""

RESTORE_NATIVES = """<script>
(() => {
    const kept = window.__dptNative;
    delete window.__dptNative;
    const trim = kept && kept.trims[0][1];
    if (!kept || kept.parseInt(" 08") !== 8 || kept.parseInt("0x16") !== 22 ||
        kept.parseFloat(" 1.5e3") !== 1500 || typeof trim !== "function" ||
        trim.call(" \\t\\n a \\u00a0\\ufeff") !== "a") { return; }
    window.parseInt = Number.parseInt = kept.parseInt;
    window.parseFloat = Number.parseFloat = kept.parseFloat;
    kept.trims.forEach(([name, native]) => {
        if (typeof native === "function") {
            Object.defineProperty(String.prototype, name,
                {value: native, writable: true, configurable: true, enumerable: false});
        }
    });
})();
</script>"""

SCRIPTS = "{%scripts%}"


def keep_native_builtins(app: Dash) -> None:
    """Wraps the scripts of `app`'s page between KEEP_NATIVES and RESTORE_NATIVES."""
    if SCRIPTS not in app.index_string:
        raise ValueError(f"the app's index_string has no {SCRIPTS}")
    app.index_string = app.index_string.replace(
        SCRIPTS, f"{KEEP_NATIVES}\n{SCRIPTS}\n{RESTORE_NATIVES}", 1
    )
