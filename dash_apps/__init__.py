"""The web UI: a Flask server mounting the Management, Viewer and Editor Dash apps."""
