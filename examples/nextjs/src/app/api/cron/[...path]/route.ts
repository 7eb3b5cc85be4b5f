import { cronApi } from '../../../../lib/api';

// Every path under /api/cron (the API, the events stream, the dashboard's assets).
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export { cronApi as DELETE, cronApi as GET, cronApi as PATCH, cronApi as POST, cronApi as PUT };
