"""The backend's access log without the polls: a gateway in front reads `/metrics` about once a second and
`/healthz` on a timer, and one line per poll buried the requests in `semgate up`'s terminal. Polls that
fail (status >= 400) are still logged."""

import logging

QUIET_PATHS = frozenset({"/metrics", "/healthz"})


class QuietPolls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access: (client address, method, path with query, HTTP version, status code)
        if not isinstance(args, tuple) or len(args) != 5:
            return True
        _, method, path, _, status = args
        poll = method == "GET" and str(path).split("?")[0] in QUIET_PATHS
        return not (poll and isinstance(status, int) and status < 400)


def quiet_polls() -> None:
    logging.getLogger("uvicorn.access").addFilter(QuietPolls())
