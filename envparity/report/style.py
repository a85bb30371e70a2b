"""The HTML reports' style sheet and content-security policy: constants shared by the drift
report and the fleet page, in a module of their own so the fleet page's text formats need not
import the drift report's renderer (and the pydantic models it reads)."""

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24}
h1{font-size:1.3em}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font:12px ui-monospace,monospace;overflow-wrap:anywhere}
.name,.name code{white-space:nowrap;word-break:keep-all;overflow-wrap:normal;hyphens:none}
.summary{border:1px solid #d0d7de;border-radius:6px;padding:.5em 1em;margin:1em 0 1.5em}
.summary ol{margin:.3em 0}.counts span{margin-right:1em}
.error{background:#ffebe9}.warning{background:#fff8c5}.info{background:#f6f8fa}
.verdict{font-weight:600}.fail{color:#cf222e}.pass{color:#1a7f37}
""".strip()

# No network, no script: a CSP makes that hold even if a value slipped through.
CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
)

__all__ = ["CSP", "CSS"]
