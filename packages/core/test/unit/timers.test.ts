import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setLongTimeout } from '../../src/timers.js';

const DAY = 86_400_000;

describe('setLongTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires after a delay longer than a Node timer holds, not before', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 30 * DAY);
    vi.advanceTimersByTime(30 * DAY - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('can be cancelled in any of its steps', () => {
    const fired = vi.fn();
    const cancel = setLongTimeout(fired, 60 * DAY);
    vi.advanceTimersByTime(40 * DAY);
    cancel();
    vi.advanceTimersByTime(40 * DAY);
    expect(fired).not.toHaveBeenCalled();
  });

  it('fires a short delay as setTimeout would', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 50);
    vi.advanceTimersByTime(49);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });
});
