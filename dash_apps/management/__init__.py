"""The Management app (`/`): sign-in, projects, dashboards, API tokens and users."""
