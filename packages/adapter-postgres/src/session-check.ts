import type { PgPoolClientLike, PgPoolLike } from './driver.js';

/** How long the check waits for a second client of the pool before it gives up (and says no). */
const SECOND_CLIENT_TIMEOUT_MS = 5_000;
/**
 * Rounds of the check. One usually decides; other clients of a busy pooler can take the session
 * in between and make a round inconclusive, never wrongly positive.
 */
const ROUNDS = 5;

async function backendPid(client: PgPoolClientLike): Promise<number> {
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  return Number(rows[0]?.pid);
}

/** A second client of `pool`, or null when none frees up in time (the pool is full or tiny). */
async function secondClient(pool: PgPoolLike): Promise<PgPoolClientLike | null> {
  const max = (pool as { options?: { max?: unknown } }).options?.max;
  if (typeof max === 'number' && max < 2) return null;
  const pending = pool.connect();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), SECOND_CLIENT_TIMEOUT_MS);
  });
  const client = await Promise.race([pending, timedOut]);
  clearTimeout(timer);
  if (client === null)
    pending.then(
      (late) => late.release(),
      () => {},
    );
  return client;
}

/** One round: true when the sessions are seen shared, false when this round cannot tell. */
async function sharedInOneRound(client: PgPoolClientLike, other: PgPoolClientLike): Promise<boolean> {
  const first = await backendPid(client);
  await other.query('BEGIN');
  try {
    if ((await backendPid(other)) === first) return true;
    return (await backendPid(client)) !== first;
  } finally {
    await other.query('COMMIT');
  }
}

/**
 * Whether the connections `client` came from share server sessions between transactions, as
 * behind PgBouncer in transaction mode: `client` reads its session's backend pid, a second client
 * opens a transaction, and `client` reads its pid again. With sessions of their own (a direct
 * connection, or session pooling) the second client's pid differs from the first and `client`'s
 * stays the same, every time. A pooler hands the idle session `client` just used to the second
 * client (its pid is the first one), or `client` lands on another session (its pid changes).
 * Nothing is left behind in any session. False when it cannot tell (no second client free).
 */
export async function sharesSessions(client: PgPoolClientLike, pool: PgPoolLike): Promise<boolean> {
  const other = await secondClient(pool);
  if (!other) return false;
  let broken: Error | undefined;
  try {
    for (let round = 0; round < ROUNDS; round++) if (await sharedInOneRound(client, other)) return true;
    return false;
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    other.release(broken);
  }
}
