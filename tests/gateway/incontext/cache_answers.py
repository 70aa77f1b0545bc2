"""OpenAI-shaped requests and answers for the IC-Cache unit tests."""

import time
import uuid


def chat(question: str, model: str = "m") -> dict:
    return {"model": model, "messages": [{"role": "user", "content": question}]}


def answer(text: str) -> dict:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                       "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}
