import { assertShallow, HttpError } from '@cronkeeper/http';
import { describe, expect, it } from 'vitest';

// A body a host framework parsed may be no plain JSON tree: its objects may be shared, or its
// accessors may throw. Walking it must stay bounded and end in the request's 400.
describe('assertShallow on a body a host framework parsed', () => {
  const refusal = (body: unknown): unknown => {
    try {
      assertShallow(body);
    } catch (error) {
      return error;
    }
    return null;
  };

  it('refuses shared objects that expand past the value budget, without walking them all', () => {
    let node: Record<string, unknown> = { leaf: 1 };
    for (let depth = 0; depth < 30; depth++) node = { left: node, right: node };
    const started = performance.now();
    const error = refusal(node);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, message: expect.stringMatching(/more than 1000000 values/) });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('answers an accessor that throws with a 400, not an error for the app', () => {
    const body = {
      get secret(): string {
        throw new Error('no');
      },
    };
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys');
        },
      },
    );
    for (const value of [body, { nested: hostile }])
      expect(refusal(value)).toMatchObject({ status: 400, code: 'INVALID_JSON' });
  });

  it('lets a plain tree at the depth limit through', () => {
    let node: unknown = 1;
    for (let depth = 0; depth < 32; depth++) node = [node];
    expect(refusal(node)).toBeNull();
  });
});
