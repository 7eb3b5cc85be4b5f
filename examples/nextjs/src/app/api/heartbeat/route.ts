import { ensureSeeded, scheduler } from '../../../lib/scheduler';

/**
 * The heartbeat of serverless mode: a platform cron (see vercel.json) calls it every minute with
 * `Authorization: Bearer $CRON_SECRET`, and it runs what is due. Without CRON_SECRET set it refuses
 * every call, so a deployment never runs jobs for anyone who finds the URL.
 */
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';
// The runs of one call must end before the platform's time limit (see the README).
export const maxDuration = 60;

/** Compare without an early exit on the first differing character. */
function sameSecret(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  return diff === 0 && expected.length > 0;
}

export async function GET(request: Request): Promise<Response> {
  const secret = process.env.CRON_SECRET ?? '';
  const given = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1] ?? '';
  if (!sameSecret(given, secret))
    return Response.json(
      { error: { code: 'UNAUTHENTICATED', message: 'bad heartbeat secret' } },
      { status: 401 },
    );
  await ensureSeeded();
  const { summary } = await scheduler.runDue({ limit: 50 });
  return Response.json({ data: summary }, { headers: { 'cache-control': 'no-store' } });
}
