"""Admission by memory: the bytes of image data and bitmaps the process holds for uploads at once.

Concurrency permits count uploads, but a 12 MB photo holds twenty times the memory of a 0.5 MB one. Each
upload reserves what it will hold (its bytes, their copies, its decoded bitmap) before it decodes; one that
does not fit waits its turn, first come first served, so a burst of big photos queues instead of growing
the heap.
"""

import asyncio
from collections import deque


class InFlightBytes:
    """A weighted FIFO semaphore over `capacity` bytes. A reservation larger than the capacity is clamped
    to it (it then runs alone). `peak` is the most ever reserved at once."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self.peak = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def reserve(self, amount: int) -> int:
        """Take `amount` bytes, waiting for them as long as the caller lets it (bound the wait with
        `asyncio.timeout`: a wait that ends takes nothing); returns what was taken, to hand to `release`."""
        amount = max(0, min(amount, self.capacity))
        if not self._waiters and self.used + amount <= self.capacity:
            self._take(amount)
            return amount
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((amount, future))
        try:
            await asyncio.shield(future)
        except BaseException:
            if future.done() and not future.cancelled():
                self.release(amount)  # granted just as the wait ended
            else:
                future.cancel()
                self._wake()  # a smaller reservation behind this one may fit now
            raise
        return amount

    def release(self, amount: int) -> None:
        self.used -= amount
        self._wake()

    def _take(self, amount: int) -> None:
        self.used += amount
        self.peak = max(self.peak, self.used)

    def _wake(self) -> None:
        while self._waiters:
            amount, future = self._waiters[0]
            if future.cancelled():
                self._waiters.popleft()
                continue
            if self.used + amount > self.capacity:
                return
            self._waiters.popleft()
            self._take(amount)
            future.set_result(None)
