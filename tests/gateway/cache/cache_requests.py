"""OpenAI-shaped requests and answers for the cache tests."""

import time
import uuid


def chat(question: str, *, system: str | None = None, history: tuple[tuple[str, str], ...] = (), model: str = "m",
         **params) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    for user, assistant in history:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return {"model": model, "messages": [*messages, {"role": "user", "content": question}], **params}


def answer(text: str, finish_reason: str = "stop", **message_fields) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, **message_fields},
                     "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
    }
