import type { EventHub } from './event-hub.js';
import { defineRoute, type RouteDef } from './routing.js';
import { scopeQuery } from './schemas.js';
import { jobVisible, workingTenant } from './scope.js';

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
};

/**
 * `GET /events`: server-sent events of run and job changes. Each event is named like the scheduler
 * event (`run:succeeded`, `job:changed`) and carries `{ run }` or `{ change, name, tenantId, job }`
 * as JSON. Runs from other instances arrive when the scheduler was started on a store that can
 * subscribe (core re-emits them). Comment lines keep proxies from closing an idle stream.
 */
export function eventRoutes(hub: EventHub): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/events',
      action: 'events:read',
      tag: 'reports',
      summary: 'Server-sent events of run and job changes (tenant-filtered)',
      query: scopeQuery,
      raw: { contentType: 'text/event-stream' },
      ownOriginOnly: true,
      handle: async ({ request, query, tenant, actor, stillAllowed }) => {
        // An operator may narrow the stream to one tenant; a confined tenant always gets its own.
        const only = tenant === null ? query.tenantId : workingTenant(tenant, query.tenantId);
        // HEAD asks for the headers only; a client that left while it was being authorized gets
        // nothing: neither subscribes to anything.
        if (request.method === 'HEAD' || request.signal.aborted)
          return new Response(null, { status: 200, headers: STREAM_HEADERS });
        const stream = hub.open(
          {
            viewer: tenant,
            run: (tenantId) => only === undefined || tenantId === only,
            job: (tenantId) =>
              only === undefined || (only === null ? tenantId === null : jobVisible(only, tenantId)),
          },
          JSON.stringify([tenant, actor]),
          request.signal,
          stillAllowed,
        );
        return new Response(stream, { status: 200, headers: STREAM_HEADERS });
      },
    }),
  ];
}
