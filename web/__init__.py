"""Static assets of the web pages (HTML, CSS, JavaScript), served by `api.pages`; no build step."""
