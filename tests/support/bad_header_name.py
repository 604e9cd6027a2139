"""Produce one record whose header *name* is not UTF-8, as librdkafka or a hand-built client can.

aiokafka's own producer encodes header names as UTF-8, so this runs as its own process with
aiokafka's pure-Python record builder (AIOKAFKA_NO_EXTENSIONS=1) and a name whose ``encode``
gives bytes that are not UTF-8. With values for ``BEFORE`` and ``AFTER``, records carrying them go
before and after it in the same record batch. Prints ``partition offset`` of the unreadable
record.

    python -m tests.support.bad_header_name BOOTSTRAP TOPIC KEY [BEFORE [AFTER]]
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiokafka import AIOKafkaProducer

assert os.environ.get("AIOKAFKA_NO_EXTENSIONS"), "run with AIOKAFKA_NO_EXTENSIONS=1"


class NotUtf8Name(str):
    def encode(self, *args: object, **kwargs: object) -> bytes:  # type: ignore[override]
        return b"\xff\xfe-name"


async def main(bootstrap: str, topic: str, key: str, before: str = "", after: str = "") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=100)
    await producer.start()
    try:
        if before:  # not awaited: lingers, so both go in one record batch
            await producer.send(topic, before.encode(), key=key.encode())
        sent = await producer.send(
            topic, b"{}", key=key.encode(), headers=[(NotUtf8Name("x"), b"v")]
        )
        if after:
            await producer.send(topic, after.encode(), key=key.encode())
        meta = await sent
        await producer.flush()
        print(meta.partition, meta.offset)
    finally:
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
