import { cronApi } from '../../../lib/api';

// /api/cron itself, where the dashboard page lives (the catch-all needs at least one segment).
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export { cronApi as GET };
