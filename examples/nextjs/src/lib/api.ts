import { type CronAction, createCronHandler } from '@cronkeeper/http';
import { ensureSeeded, scheduler } from './scheduler';

/** The toy token store: token → role. A real app reads its own session (cookies, JWT) here. */
const TOKENS: Record<string, { name: string; role: 'admin' | 'viewer' }> = {
  'admin-token': { name: 'admin', role: 'admin' },
  'viewer-token': { name: 'viewer', role: 'viewer' },
};

const READ_ONLY: readonly CronAction[] = [
  'jobs:read',
  'executors:read',
  'runs:read',
  'stats:read',
  'events:read',
  'dashboard:view',
  'openapi:read',
];

function user(request: Request) {
  const bearer = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  const cookie = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  const token = bearer ?? (cookie ? decodeURIComponent(cookie) : undefined);
  return token ? (TOKENS[token] ?? null) : null;
}

const handle = createCronHandler(scheduler, {
  basePath: '/api/cron',
  authorize: (request, action) => {
    const who = user(request);
    if (!who) return 'unauthenticated';
    return who.role === 'admin' || READ_ONLY.includes(action);
  },
  actor: (request) => user(request)?.name ?? null,
  dashboard: true,
});

/** Every method of the catch-all route: the default jobs exist before the first answer. */
export async function cronApi(request: Request): Promise<Response> {
  await ensureSeeded();
  return handle(request);
}
