"""What every outside system's client does with an answer it cannot use: quote a short, one-line excerpt of it in
the error, so a log says what came back without filling up with a whole HTML error page."""


def excerpt(text: str, limit: int = 200) -> str:
    """`text` on one line (runs of whitespace as one space), cut at `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
