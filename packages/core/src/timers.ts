/** Node keeps timer delays in a signed 32-bit int: a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `setTimeout` for any delay: one longer than a timer can hold is waited out in steps, so a
 * 30-day timeout fires after 30 days and not at once. Returns the function that cancels it.
 */
export function setLongTimeout(callback: () => void, delayMs: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wait = (remaining: number) => {
    timer = setTimeout(
      () => (remaining > MAX_TIMER_MS ? wait(remaining - MAX_TIMER_MS) : callback()),
      Math.min(Math.max(0, remaining), MAX_TIMER_MS),
    );
  };
  wait(delayMs);
  return () => clearTimeout(timer);
}
