import type { JobEvent, RunEvent, Scheduler, SchedulerEvents } from '@cronkeeper/core';
import { defineRoute, type RouteDef } from './routing.js';
import { scopeQuery } from './schemas.js';
import { jobVisible, workingTenant } from './scope.js';

const RUN_EVENTS = [
  'run:created',
  'run:started',
  'run:succeeded',
  'run:failed',
  'run:cancelled',
  'run:skipped',
] as const;

/**
 * `GET /events`: server-sent events of run and job changes. Each event is named like the scheduler
 * event (`run:succeeded`, `job:changed`) and carries `{ run }` or `{ change, name, tenantId, job }`
 * as JSON. Runs from other instances arrive when the scheduler was started on a store that can
 * subscribe (core re-emits them). Comment lines keep proxies from closing an idle stream.
 */
export function eventRoutes(scheduler: Scheduler, heartbeatMs: number): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/events',
      action: 'events:read',
      tag: 'reports',
      summary: 'Server-sent events of run and job changes (tenant-filtered)',
      query: scopeQuery,
      raw: { contentType: 'text/event-stream' },
      handle: async ({ req, res, query, tenant }) => {
        // An operator may narrow the stream to one tenant; a confined tenant always gets its own.
        const only = tenant === null ? query.tenantId : workingTenant(tenant, query.tenantId);
        const runVisible = (tenantId: string | null) => only === undefined || tenantId === only;
        const jobShown = (tenantId: string | null) =>
          only === undefined || (only === null ? tenantId === null : jobVisible(only, tenantId));

        res.status(200);
        res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
        res.setHeader('Cache-Control', 'no-cache, no-transform');
        res.setHeader('Connection', 'keep-alive');
        res.setHeader('X-Accel-Buffering', 'no');
        res.flushHeaders();
        let closed = false;
        const write = (chunk: string) => {
          if (closed) return;
          res.write(chunk);
          // Compression middleware buffers unless told to flush.
          (res as unknown as { flush?: () => void }).flush?.();
        };
        write(`retry: 3000\n: connected\n\n`);

        const send = (event: string, data: unknown) =>
          write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        const listeners = RUN_EVENTS.map((name) => {
          const listener = (event: RunEvent) => {
            if (runVisible(event.run.tenantId)) send(name, { run: event.run, origin: event.origin });
          };
          scheduler.on(name, listener);
          return [name, listener] as const;
        });
        const onJob: SchedulerEvents['job:changed'] = (event: JobEvent) => {
          if (jobShown(event.tenantId))
            send('job:changed', {
              change: event.change,
              name: event.name,
              tenantId: event.tenantId,
              job: event.job,
              origin: event.origin,
            });
        };
        scheduler.on('job:changed', onJob);
        const heartbeat = setInterval(
          () => write(`: heartbeat ${new Date().toISOString()}\n\n`),
          heartbeatMs,
        );
        heartbeat.unref();

        const close = () => {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          for (const [name, listener] of listeners) scheduler.off(name, listener);
          scheduler.off('job:changed', onJob);
        };
        req.on('close', close);
        res.on('close', close);
        res.on('error', close);
      },
    }),
  ];
}
