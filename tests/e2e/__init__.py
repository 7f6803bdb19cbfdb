"""Browser tests: the UI driven by Chromium through Playwright against a whole stack."""
