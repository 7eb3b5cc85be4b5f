import { describe, expect, it } from 'vitest';
import { planFiring } from '../../src/planning.js';
import { newJob } from '../../src/testing/records.js';
import type { Job } from '../../src/types.js';

const SLOT = new Date('2026-03-01T00:01:00.000Z');
const ms = (offset: number) => new Date(SLOT.getTime() + offset);

/** A stored job due at SLOT (planning reads only the definition and `nextRunAt`). */
function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job-1',
    version: 1,
    ...newJob({ schedule: '* * * * * *', nextRunAt: SLOT }),
    ...overrides,
  } as Job;
}

describe('planFiring', () => {
  it('plans a slot still to come (fired ahead of time) as that one slot, never late, and the next after it', () => {
    for (const misfireGraceMs of [null, 0]) {
      const plan = planFiring(job({ misfireGraceMs }), ms(-40));
      expect(plan.slots).toEqual([SLOT]);
      expect(plan.dropped).toBe(0);
      expect(plan.nextRunAt).toEqual(ms(1_000));
    }
  });

  it('drops a slot later than the grace, and plans the first slot after the present next', () => {
    const late = planFiring(job({ misfireGraceMs: 500 }), ms(900));
    expect(late.slots).toEqual([]);
    expect(late.dropped).toBe(1);
    expect(late.nextRunAt).toEqual(ms(1_000));
  });
});
