"""Browser tests of the web app, and the helpers the server tests share (photos, harness)."""
