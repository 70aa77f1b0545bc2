"""A sequence's output text: detokenized as tokens arrive, cut at the first stop string.

While streaming, the last len(longest stop string) - 1 characters are held back: they
could be the start of a stop string that the next tokens complete, and a client must
never see any part of a stop string.
"""

from gpu_backend.model.tokenizer import IncrementalDetokenizer


class OutputText:
    def __init__(self, detokenizer: IncrementalDetokenizer, stop: tuple[str, ...]) -> None:
        self._detokenizer = detokenizer
        self._stop = stop
        self._hold = max((len(s) for s in stop), default=1) - 1
        self.text = ""
        self._sent = 0

    def append(self, token_id: int) -> bool:
        """Add a generated token's text; True if the text now reaches a stop string."""
        return self._extend(self._detokenizer.push(token_id))

    def finish(self) -> None:
        """Generation ended without a stop string: take what the detokenizer held back."""
        self._extend(self._detokenizer.flush())

    def _extend(self, delta: str) -> bool:
        if not delta:
            return False
        # A stop string completed by `delta` starts at most len(stop) - 1 characters before it.
        search_from = max(0, len(self.text) - self._hold)
        self.text += delta
        if not self._stop:
            return False
        hits = [i for i in (self.text.find(s, search_from) for s in self._stop) if i >= 0]
        if not hits:
            return False
        self.text = self.text[: min(hits)]
        return True

    def take_delta(self, finished: bool) -> str:
        """Text not yet handed out that can no longer turn out to be part of a stop string."""
        end = len(self.text) if finished else len(self.text) - self._hold
        if end <= self._sent:
            return ""
        delta = self.text[self._sent : end]
        self._sent = end
        return delta
